package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// lastAudit is the newest audit entry.
func lastAudit(t *testing.T, s *testServer) model.AuditEntry {
	t.Helper()
	es, err := s.app.Domain.Audit.Log(context.Background(), activation.AuditFilter{Limit: 1}, tester)
	if err != nil || len(es) == 0 {
		t.Fatalf("reading the audit log: %v (%d entries)", err, len(es))
	}
	return es[0]
}

// TestEveryMutatingAPIRouteIsAudited calls every route of the table that
// changes something, as an admin and as an auditor (who is refused): each
// call, whatever its outcome, leaves an audit entry naming the route, the
// caller and the answer's status.
func TestEveryMutatingAPIRouteIsAudited(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	tok, hash := secret.NewToken(secret.PrefixAPIToken)
	if err := s.app.Store.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateAPIToken(ctx, model.DefaultOrgID, "auditor token", model.RoleAuditor, secret.Display(tok), hash)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// id 999: DELETE /api/v1/tokens/1 would revoke the admin's own token.
	concrete := strings.NewReplacer("{name}", "x", "{username}", "1", "{platform}", "android", "{key}", "company_name", "{id}", "999", "{channel}", "sms")
	checked := 0
	for _, rt := range s.app.Web.Routes() {
		if rt.Access != "token" || rt.Method == http.MethodGet {
			continue
		}
		for _, who := range []struct{ name, token string }{{"auditor token", tok}, {"admin (first start)", ""}} {
			code, body, _ := s.do(rt.Method, concrete.Replace(rt.Path), "{}", who.token)
			e := lastAudit(t, s)
			if e.Action != rt.Method+" "+rt.Path || e.Actor != who.name || e.Status != code || e.Via != "api" {
				t.Errorf("%s %s by %s answered %d %.100s; the last audit entry is %+v", rt.Method, rt.Path, who.name, code, body, e)
			}
			checked++
		}
	}
	if checked < 40 {
		t.Fatalf("only %d routes checked", checked)
	}
}

// TestAuditKeepsBeforeAndAfterWithoutSecrets edits an account and makes a
// token, and reads what the audit log kept.
func TestAuditKeepsBeforeAndAfterWithoutSecrets(t *testing.T) {
	s := startServer(t, "")
	s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
	var acc model.Account
	json.Unmarshal(s.mustDo("POST", "/api/v1/accounts", `{"group":"sales","name":"Ada Lovelace"}`, 201), &acc)
	e := lastAudit(t, s)
	if e.Target != "account:"+acc.Username || !strings.Contains(e.After, "Ada Lovelace") || e.Before != "" {
		t.Errorf("create: %+v", e)
	}
	s.mustDo("PATCH", "/api/v1/accounts/"+acc.Username, `{"name":"Ada King"}`, 200)
	e = lastAudit(t, s)
	if e.Target != "account:"+acc.Username || !strings.Contains(e.Before, "Ada Lovelace") || !strings.Contains(e.After, "Ada King") {
		t.Errorf("edit: %+v", e)
	}
	s.mustDo("DELETE", "/api/v1/accounts/"+acc.Username, "", 204)
	e = lastAudit(t, s)
	if !strings.Contains(e.Before, "Ada King") || e.After != "" {
		t.Errorf("delete: %+v", e)
	}

	var op model.OperatorCreated
	json.Unmarshal(s.mustDo("POST", "/api/v1/operators", `{"name":"ada","role":"csr"}`, 201), &op)
	if e := lastAudit(t, s); strings.Contains(e.After, "avp_") || strings.Contains(e.After, "set-password") || e.Target != "operator:ada" {
		t.Errorf("the audit entry of a new operator holds the set-password link: %+v", e)
	}
	var tc model.TokenCreated
	json.Unmarshal(s.mustDo("POST", "/api/v1/tokens", `{"name":"laptop","operator":"ada"}`, 201), &tc)
	if !strings.HasPrefix(tc.Token, "ava_") {
		t.Fatalf("token: %+v", tc)
	}
	if e := lastAudit(t, s); strings.Contains(e.After, tc.Token) || !strings.Contains(e.After, tc.APIToken.Prefix) {
		t.Errorf("the audit entry of a new token: %+v", e)
	}
	// The operator's token acts as the operator.
	code, body, _ := s.do("POST", "/api/v1/groups", `{"name":"support"}`, tc.Token)
	if code != http.StatusForbidden {
		t.Errorf("a csr's token created a group: %d %s", code, body)
	}
	if e := lastAudit(t, s); e.Actor != "ada" || e.Role != model.RoleCSR || e.Status != 403 {
		t.Errorf("the refused call is audited as %+v", e)
	}
	s.mustDo("DELETE", "/api/v1/tokens/"+itoa(tc.APIToken.ID), "", 204)
	if code, _, _ := s.do("GET", "/api/v1/groups", "", tc.Token); code != http.StatusUnauthorized {
		t.Errorf("a revoked token still works: %d", code)
	}
	// Auditors and admins read the log, csr do not.
	var list struct {
		Entries []model.AuditEntry `json:"entries"`
	}
	json.Unmarshal(s.mustDo("GET", "/api/v1/audit?limit=5", "", 200), &list)
	if len(list.Entries) != 5 {
		t.Errorf("audit listing: %d entries", len(list.Entries))
	}
	csv := string(s.mustDo("GET", "/api/v1/audit?format=csv&actor=ada", "", 200))
	if !strings.HasPrefix(csv, "id,at,actor") || !strings.Contains(csv, "POST /api/v1/groups") {
		t.Errorf("audit CSV: %q", csv)
	}
}

// TestImportAndExportOverTheAPI previews, confirms and exports through the API.
func TestImportAndExportOverTheAPI(t *testing.T) {
	s := startServer(t, "")
	s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
	file := "full name,mobile number\nAda,+393331234567\nBad,12\n"
	req, _ := http.NewRequest("POST", s.url+"/api/v1/imports?group=sales&file_name=a.csv", strings.NewReader(file))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var p model.ImportPreview
	json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != 201 || p.Create != 1 || p.Invalid != 1 || p.Errors[0].Row != 3 || p.Errors[0].Column != "mobile number" {
		t.Fatalf("preview: %d %+v", resp.StatusCode, p)
	}
	var st model.ImportStatus
	json.Unmarshal(s.mustDo("POST", "/api/v1/imports/"+itoa(p.ID)+"/confirm", "", 200), &st)
	if st.Created != 1 || st.State != model.ImportDone {
		t.Fatalf("confirm: %+v", st)
	}
	csv := string(s.mustDo("GET", "/api/v1/export/accounts?group=sales", "", 200))
	if !strings.Contains(csv, "Ada,+393331234567") || strings.Count(csv, "\n") != 2 {
		t.Errorf("export: %q", csv)
	}
	if code, _, _ := s.do("GET", "/api/v1/export/accounts?status=nonsense", "", ""); code != 400 {
		t.Errorf("export with a bad filter: %d", code)
	}
}

// TestAuditOfGatewaysAndTokens configures a gateway, routes a group
// through it and revokes a token over the API: each entry has the target
// before and after, with no secret and no receipt key.
func TestAuditOfGatewaysAndTokens(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *testServer) {
		var gw model.Gateway
		json.Unmarshal(s.mustDo("POST", "/api/v1/gateways", `{"name":"sms-main","kind":"twilio","settings":{"account_sid":"AC1","auth_token":"tok-secret-1","from":"+15005550006"}}`, 201), &gw)
		receiptKey := gw.ReceiptURL[strings.LastIndex(gw.ReceiptURL, "/")+1:]
		if !strings.HasPrefix(receiptKey, "avr_") {
			t.Fatalf("receipt URL %q", gw.ReceiptURL)
		}
		noSecret := func(what string, e model.AuditEntry) {
			t.Helper()
			for _, leak := range []string{"tok-secret-1", "tok-secret-2", receiptKey} {
				if strings.Contains(e.Before+e.After, leak) {
					t.Errorf("%s: the audit entry holds a secret: %+v", what, e)
				}
			}
		}
		e := lastAudit(t, s)
		if e.Target != "gateway:sms-main" || e.Before != "" || !strings.Contains(e.After, `"account_sid":"AC1"`) {
			t.Errorf("create gateway: %+v", e)
		}
		noSecret("create gateway", e)
		s.mustDo("PATCH", "/api/v1/gateways/sms-main", `{"settings":{"auth_token":"tok-secret-2","account_sid":"AC2"}}`, 200)
		e = lastAudit(t, s)
		if e.Target != "gateway:sms-main" || !strings.Contains(e.Before, `"account_sid":"AC1"`) || !strings.Contains(e.After, `"account_sid":"AC2"`) {
			t.Errorf("edit gateway: %+v", e)
		}
		noSecret("edit gateway", e)
		s.mustDo("PATCH", "/api/v1/gateways/sms-main", `{"name":"sms-eu"}`, 200) // renamed: after is the answer, redacted
		e = lastAudit(t, s)
		if !strings.Contains(e.Before, `"name":"sms-main"`) || !strings.Contains(e.After, `"name":"sms-eu"`) {
			t.Errorf("rename gateway: %+v", e)
		}
		noSecret("rename gateway", e)

		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		s.mustDo("PUT", "/api/v1/groups/sales/gateways/sms", `{"gateway":"sms-eu"}`, 204)
		e = lastAudit(t, s)
		if e.Target != "group:sales" || strings.Contains(e.Before, "gateways") || !strings.Contains(e.After, `"gateways":{"sms":"sms-eu"}`) {
			t.Errorf("route a group through a gateway: %+v", e)
		}
		s.mustDo("PUT", "/api/v1/groups/sales/gateways/sms", `{"gateway":""}`, 204)
		s.mustDo("DELETE", "/api/v1/gateways/sms-eu", "", 204)
		e = lastAudit(t, s)
		if e.Target != "gateway:sms-eu" || !strings.Contains(e.Before, `"name":"sms-eu"`) || e.After != "" {
			t.Errorf("delete gateway: %+v", e)
		}
		noSecret("delete gateway", e)

		var tc model.TokenCreated
		s.mustDo("POST", "/api/v1/operators", `{"name":"ada","role":"csr"}`, 201)
		json.Unmarshal(s.mustDo("POST", "/api/v1/tokens", `{"name":"laptop","operator":"ada"}`, 201), &tc)
		id := itoa(tc.APIToken.ID)
		e = lastAudit(t, s)
		if e.Target != "token:"+id || !strings.Contains(e.After, `"prefix":"`+tc.APIToken.Prefix+`"`) || strings.Contains(e.After, tc.Token) {
			t.Errorf("create token: %+v", e)
		}
		s.mustDo("DELETE", "/api/v1/tokens/"+id, "", 204)
		e = lastAudit(t, s)
		if e.Target != "token:"+id || !strings.Contains(e.Before, `"name":"laptop"`) || strings.Contains(e.Before, "revoked_at") ||
			!strings.Contains(e.After, "revoked_at") || strings.Contains(e.Before+e.After, tc.Token) {
			t.Errorf("revoke token: %+v", e)
		}
	})
}

// TestConfirmingALargeImportAnswers202AndGoesOnAsAJob: a confirmation
// that is not done within the server's wait (here none) answers 202 with
// the import in state importing, and the job goes on to done by itself,
// which GET /imports/{id} follows: every row imported once.
func TestConfirmingALargeImportAnswers202AndGoesOnAsAJob(t *testing.T) {
	apptest.ForEachDatabase(t, func(t *testing.T, database string) {
		s := startServerWith(t, apptest.Options{Database: database, ImportConfirmWait: -1})
		s.mustDo("POST", "/api/v1/groups", `{"name":"sales"}`, 201)
		var b strings.Builder
		b.WriteString("full name,mobile number\n")
		const n = 2500
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "Person %d,+39333%07d\n", i, i)
		}
		req, _ := http.NewRequest("POST", s.url+"/api/v1/imports?group=sales&file_name=big.csv", strings.NewReader(b.String()))
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p model.ImportPreview
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != 201 || p.Create != n {
			t.Fatalf("preview: %d %+v", resp.StatusCode, p)
		}
		var st model.ImportStatus
		json.Unmarshal(s.mustDo("POST", "/api/v1/imports/"+itoa(p.ID)+"/confirm", "", 202), &st)
		if st.ID != p.ID || st.State != model.ImportImporting {
			t.Fatalf("confirm: %+v, want the import in state importing", st)
		}
		for st.State == model.ImportImporting {
			time.Sleep(20 * time.Millisecond)
			json.Unmarshal(s.mustDo("GET", "/api/v1/imports/"+itoa(p.ID), "", 200), &st)
			if st.Done > st.Total || st.Created > st.Done {
				t.Fatalf("progress: %+v", st)
			}
		}
		if st.State != model.ImportDone || st.Created != n || st.Done != n || st.LastError != "" {
			t.Fatalf("after the job: %+v", st)
		}
		keys, err := s.app.Store.AccountKeys(context.Background(), model.DefaultOrgID)
		if err != nil || len(keys) != n {
			t.Fatalf("%d accounts, %v; want %d", len(keys), err, n)
		}
		// Confirming a done import again is refused, as before.
		if code, _, _ := s.do("POST", "/api/v1/imports/"+itoa(p.ID)+"/confirm", "", ""); code != 409 {
			t.Errorf("confirming a done import again: %d, want 409", code)
		}
	})
}
