package e2e_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestOpenInLinphoneInBrowser: in a real browser, under the landing page's
// Content-Security-Policy, the "Open in Linphone" button (under "Another
// device?") posts the form and the answer holds the provisioning URL, which
// then serves Linphone's XML. The landing page view alone used nothing up.
func TestOpenInLinphoneInBrowser(t *testing.T) {
	needTools(t, "chromium")
	bin := buildBinary(t, t.TempDir())
	srv := startServe(t, bin, serveOptions{pki: newTestPKI(t), logLevel: "debug"})
	c := newCLI(t, bin, srv)
	srv.setUp(t, c)
	acc := newAccount(t, c, "Lin", "6001")

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("ignore-certificate-errors", true), // the test's own CA
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(acc.link),
		// The button waits behind "Another device?", as a person finds it.
		chromedp.Click(chromedp.CSS("#another-device summary")),
		chromedp.WaitVisible(chromedp.CSS("#linphone")),
		chromedp.Click(chromedp.CSS("#linphone")),
		chromedp.WaitVisible(chromedp.CSS("#provisioning-url")),
	); err != nil {
		t.Fatalf("landing page, Open in Linphone: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#provisioning-url")))
	if err != nil {
		t.Fatal(err)
	}
	u := strings.TrimSpace(shown)
	if !regexp.MustCompile(`^https://localhost:\d+/p/linphone/avd_[a-z2-7]{32}$`).MatchString(u) {
		t.Fatalf("provisioning URL shown: %q", u)
	}
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#open-linphone"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	if href.Value != "linphone-config:"+u {
		t.Errorf("the Open in Linphone link is %q, want linphone-config:%s", href.Value, u)
	}
	resp, err := srv.hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `<entry name="username" overwrite="true">`+acc.username+`</entry>`) {
		t.Fatalf("GET the provisioning URL: %d\n%s", resp.StatusCode, body)
	}
	// The POST was the one-time step: the link is used up now.
	resp, err = srv.hc.Get(acc.link)
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, resp); resp.StatusCode != 410 {
		t.Fatalf("the landing page after Open in Linphone: %d, want 410 (used)\n%s", resp.StatusCode, tail(b, 500))
	}
}
