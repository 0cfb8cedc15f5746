package openapitest

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/app/apptest"
)

func ptr[T any](v T) *T { return &v }

// bearer is a request editor adding an Authorization header.
func bearer(token string) RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

var linkRe = regexp.MustCompile(`avl_[a-z2-7]{32}`)

// TestClientDrivesTheServer is an integrator's script through the client
// generated from the document: a group and an account, a listing with
// typed parameters, a CSV import previewed and confirmed, a link sent and
// read in the outbox, the device's redeem and re-provisioning with its
// credential, a group's gateway override, and errors read as the
// document's ErrorBody. Every answer decodes into the generated types.
func TestClientDrivesTheServer(t *testing.T) {
	ctx := context.Background()
	s := apptest.Start(t, apptest.Options{})
	c, err := NewClientWithResponses(s.URL, WithRequestEditorFn(bearer(s.AdminToken)))
	if err != nil {
		t.Fatal(err)
	}

	g, err := c.PostGroupsWithResponse(ctx, PostGroupsJSONRequestBody{Name: ptr("sales"), ItEmail: ptr("it@example.com")})
	if err != nil || g.StatusCode() != 201 || g.JSON201 == nil || g.JSON201.Name != "sales" {
		t.Fatalf("creating a group: %v %s", err, body(g.Body))
	}
	a, err := c.PostAccountsWithResponse(ctx, PostAccountsJSONRequestBody{Group: ptr("sales"), Name: ptr("Ada Lovelace"),
		Email: ptr("ada@example.com"), SecurityModel: ptr(AccountInputSecurityModelEndToSite)})
	if err != nil || a.StatusCode() != 201 || a.JSON201 == nil || a.JSON201.SecurityModel != AccountSecurityModelEndToSite {
		t.Fatalf("creating an account: %v %s", err, body(a.Body))
	}
	user := a.JSON201.Username
	l, err := c.GetAccountsWithResponse(ctx, &GetAccountsParams{Status: ptr(GetAccountsParamsStatusNew), Limit: ptr(10), Offset: ptr(0)})
	if err != nil || l.JSON200 == nil || len(l.JSON200.Accounts) != 1 || l.JSON200.Accounts[0].Username != user {
		t.Fatalf("listing new accounts: %v %s", err, body(l.Body))
	}

	// A bad value comes back as the document's error body, naming the field.
	bad, err := c.PatchAccountsUsernameWithResponse(ctx, user, PatchAccountsUsernameJSONRequestBody{Name: ptr("Ada\x00")})
	if err != nil || bad.StatusCode() != 400 || bad.JSON400 == nil || bad.JSON400.Error.Field == nil || *bad.JSON400.Error.Field != "name" ||
		!strings.Contains(bad.JSON400.Error.Message, "control character") {
		t.Fatalf("a name with NUL: %v %s", err, body(bad.Body))
	}
	missing, err := c.GetAccountsUsernameWithResponse(ctx, "0000000000")
	if err != nil || missing.StatusCode() != 404 || missing.JSON404 == nil || missing.JSON404.Error.Code == "" {
		t.Fatalf("a missing account: %v %s", err, body(missing.Body))
	}

	// A CSV import, as text/csv.
	p, err := c.PostImportsWithBodyWithResponse(ctx, &PostImportsParams{Group: ptr("sales"), FileName: ptr("people.csv")}, "text/csv",
		strings.NewReader("Full name,E-mail\nCharles Babbage,charles@example.com\nBad,not-mail\n"))
	if err != nil || p.StatusCode() != 201 || p.JSON201 == nil || p.JSON201.Create != 1 || p.JSON201.Invalid != 1 || p.JSON201.State != ImportPreviewStatePreviewed {
		t.Fatalf("an import preview: %v %s", err, body(p.Body))
	}
	done, err := c.PostImportsIdConfirmWithResponse(ctx, p.JSON201.Id)
	if err != nil || done.JSON200 == nil || done.JSON200.State != ImportStatusStateDone {
		t.Fatalf("confirming the import: %v %s", err, body(done.Body))
	}

	// A link through the outbox, redeemed by a device.
	sent, err := c.PostAccountsUsernameSendWithResponse(ctx, user, PostAccountsUsernameSendJSONRequestBody{Channel: SendRequestChannelEmail})
	if err != nil || sent.JSON201 == nil {
		t.Fatalf("sending a link: %v %s", err, body(sent.Body))
	}
	var token string
	// The delivery worker hands the message to the outbox gateway on its own time.
	var out *GetOutboxResponse
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err = c.GetOutboxWithResponse(ctx, &GetOutboxParams{Limit: ptr(5)})
		if err != nil || out.JSON200 == nil || len(out.JSON200.Outbox) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || out.JSON200 == nil || len(out.JSON200.Outbox) == 0 {
		t.Fatalf("the outbox: %v %s", err, body(out.Body))
	}
	item, err := c.GetOutboxIdWithResponse(ctx, out.JSON200.Outbox[0].Id)
	if err == nil && item.JSON200 != nil {
		token = linkRe.FindString(item.JSON200.Body)
	}
	if token == "" {
		t.Fatalf("no live link in the outbox item: %v %s", err, body(item.Body))
	}
	dev, err := NewClientWithResponses(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := dev.PostDeviceActivateWithResponse(ctx, PostDeviceActivateJSONRequestBody{Token: token,
		Device: DeviceInfo{Id: "phone-1", Platform: DeviceInfoPlatformAndroid, Model: ptr("Pixel")}})
	if err != nil || rd.JSON200 == nil || !strings.HasPrefix(rd.JSON200.DeviceCredential, "avd_") || rd.JSON200.Config.Account.Username != user {
		t.Fatalf("redeeming: %v %s", err, body(rd.Body))
	}
	again, err := dev.PostDeviceActivateWithResponse(ctx, PostDeviceActivateJSONRequestBody{Token: token, Device: DeviceInfo{Id: "phone-2", Platform: DeviceInfoPlatformIos}})
	if err != nil || again.StatusCode() != 410 || again.JSON410 == nil || again.JSON410.Error.Code != "link_used" {
		t.Fatalf("redeeming again: %v %s", err, body(again.Body))
	}
	cfg, err := dev.GetDeviceConfigWithResponse(ctx, bearer(rd.JSON200.DeviceCredential))
	if err != nil || cfg.JSON200 == nil || cfg.JSON200.Account.Username != user {
		t.Fatalf("re-provisioning: %v %s", err, body(cfg.Body))
	}

	// The group's gateway override: the body must name the gateway; "" removes it.
	gw, err := c.PutGroupsNameGatewaysChannelWithResponse(ctx, "sales", PutGroupsNameGatewaysChannelParamsChannelEmail, PutGroupsNameGatewaysChannelJSONRequestBody{Gateway: ""})
	if err != nil || gw.StatusCode() != 204 {
		t.Fatalf("removing the group's e-mail override: %v %d %s", err, gw.StatusCode(), body(gw.Body))
	}

	// The document itself, through the client.
	doc, err := c.GetOpenapiJsonWithResponse(ctx)
	if err != nil || doc.StatusCode() != 200 || !strings.Contains(string(doc.Body), `"openapi"`) {
		t.Fatalf("the document: %v %s", err, body(doc.Body))
	}
}

func body(b []byte) string {
	if len(b) > 500 {
		b = b[:500]
	}
	return string(b)
}
