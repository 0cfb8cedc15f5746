package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/model"
)

// TestLandingPageAfterInstall opens a link's landing page, follows its
// installation link, and opens the page again, as a user who comes back
// after installing: step 1 now says it was done and sends them to step 2.
// Once the link is used, its error page offers the group's IT contact.
func TestLandingPageAfterInstall(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	by := activation.Caller{Name: "test", Role: "admin", OrgID: model.DefaultOrgID}
	if _, err := s.app.Domain.Downloads.Set(ctx, model.AppURL{Platform: "android", URL: "https://apps.example.com/app.apk"}, by); err != nil {
		t.Fatal(err)
	}
	tok := issueLink(t, s, "Ada")
	if _, err := s.app.Domain.Groups.Update(ctx, "attack", model.GroupInput{ITEmail: strp("it@example.com")}, by); err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	phone := http.Header{"User-Agent": {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"}}
	c := clientFrom(t, "127.0.0.1")
	done := html(cat.T("en", "landing.install.done"))

	code, _, body := send(t, c, "GET", s.url+"/a/"+tok, nil, phone)
	if code != 200 || strings.Contains(string(body), done) || !strings.Contains(string(body), `id="return"`) {
		t.Fatalf("the landing page before installing: %d, says step 1 is done: %v", code, strings.Contains(string(body), done))
	}
	if code, h, _ := send(t, c, "GET", s.url+"/a/"+tok+"/install?platform=android", nil, phone); code != http.StatusFound || h.Get("Location") != "https://apps.example.com/app.apk" {
		t.Fatalf("the installation link: %d to %q", code, h.Get("Location"))
	}
	code, _, body = send(t, c, "GET", s.url+"/a/"+tok, nil, phone)
	if code != 200 || !strings.Contains(string(body), done) || strings.Contains(string(body), `id="return"`) || !strings.Contains(string(body), `class="step first done"`) {
		t.Errorf("the landing page after installing: %d, does not say step 1 is done", code)
	}

	as, err := s.app.Domain.Accounts.List(ctx, "", "", "ada@example.com", 1, 0, by)
	if err != nil || len(as) != 1 {
		t.Fatalf("the account: %v %v", as, err)
	}
	if _, err := s.app.Domain.Links.Revoke(ctx, as[0].Username, by); err != nil {
		t.Fatal(err)
	}
	code, _, body = send(t, c, "GET", s.url+"/a/"+tok, nil, phone)
	if code != http.StatusGone || !strings.Contains(string(body), `id="it-contact" href="mailto:it@example.com"`) {
		t.Errorf("the revoked link's page: %d, does not offer the group's IT contact:\n%s", code, body)
	}
}

// html escapes s the way html/template writes text.
func html(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func strp(s string) *string { return &s }
