package pages

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/qr"
)

// chromiumPath is Debian's Chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

// screenshotDir is docs/screenshots at the root of the repository.
const screenshotDir = "../../../docs/screenshots"

// browserCase is one device the landing page is opened on.
type browserCase struct {
	name          string
	userAgent     string
	width, height int64
	mobile        bool
	wantPlatform  string
	screenshot    string
}

// TestLandingInBrowser opens the landing page in a real Chromium with
// JavaScript disabled, on a phone and on a desktop, under the page's own
// Content-Security-Policy.
func TestLandingInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", chromiumPath, err)
		}
		t.Skipf("skipping the browser test: %s not found (apt-get install chromium); CI=true makes this a failure", chromiumPath)
	}

	r, _ := newRenderer(t)
	srv := httptest.NewServer(landingServer(t, r))
	defer srv.Close()

	// A fresh profile; removed by t.TempDir after the browser has exited.
	profile := t.TempDir()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
	)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser, with no timeout
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}

	cases := []browserCase{
		{
			name:         "phone",
			userAgent:    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
			width:        390,
			height:       844,
			mobile:       true,
			wantPlatform: "ios",
			screenshot:   "landing-phone.png",
		},
		{
			name:         "desktop",
			userAgent:    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
			width:        1280,
			height:       900,
			wantPlatform: "windows",
			screenshot:   "landing-desktop.png",
		},
	}
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			// Each case gets its own tab.
			tabCtx, cancelTab := chromedp.NewContext(browserCtx)
			defer cancelTab()
			ctx, cancel := context.WithTimeout(tabCtx, 60*time.Second)
			defer cancel()
			checkLanding(ctx, t, srv.URL, bc)
		})
	}
}

// shownURL is the page URL the page shows and the QR code holds. The links
// are relative, so nothing on screen depends on the test server's port and
// the screenshots only change when the page does.
const shownURL = "https://activate.example.com/a/act_5mTq2ZrV8xKc4Hn7"

// landingServer serves the landing page the way the web layer does: the
// platform from the User-Agent, detected one first, and the QR code image.
func landingServer(t *testing.T, r *Renderer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a/tok", func(w http.ResponseWriter, req *http.Request) {
		const pageURL = "/a/tok"
		detected := DetectPlatform(req.UserAgent())
		var links []PlatformLink
		for _, p := range append([]string{detected}, model.Platforms...) {
			if p == "" || (len(links) > 0 && p == detected) {
				continue
			}
			links = append(links, PlatformLink{Platform: p, URL: pageURL + "/install?platform=" + p})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", r.ContentSecurityPolicy())
		err := r.Landing(w, LandingView{
			Lang:          "en",
			Company:       "ACME Corp",
			DisplayName:   "Ada Lovelace-Byron, Countess of a Rather Long Name",
			Kind:          model.LinkActivation,
			SecurityModel: model.EndToEnd,
			Platform:      detected,
			Platforms:     links,
			ActivationURL: pageURL + "/activation",
			QRURL:         pageURL + "/qr.svg",
			PageURL:       shownURL,
			ExpiresAt:     time.Date(2026, time.March, 9, 14, 30, 0, 0, time.UTC),
			ITEmail:       "it-helpdesk@acme.example",
		})
		if err != nil {
			t.Errorf("Landing: %v", err)
		}
	})
	mux.HandleFunc("GET /a/tok/qr.svg", func(w http.ResponseWriter, req *http.Request) {
		img, err := qr.SVG(shownURL)
		if err != nil {
			t.Errorf("qr.SVG: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write(img)
	})
	return mux
}

func checkLanding(ctx context.Context, t *testing.T, base string, bc browserCase) {
	t.Helper()
	viewport := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if bc.mobile {
		viewport = []chromedp.EmulateViewportOption{chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch}
	}
	noScript := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	userAgent := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: bc.userAgent})
		return err
	})
	if err := chromedp.Do(ctx,
		noScript,
		userAgent,
		chromedp.EmulateViewport(bc.width, bc.height, viewport...),
		chromedp.Navigate(base+"/a/tok"),
	); err != nil {
		t.Fatalf("opening the landing page: %v", err)
	}

	anchors, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("a")))
	if err != nil {
		t.Fatalf("reading the links: %v", err)
	}
	if len(anchors) == 0 {
		t.Fatal("the page has no links")
	}
	first := anchors[0].AttributeValue("href")
	if want := "/install?platform=" + bc.wantPlatform; !strings.HasSuffix(first, want) {
		t.Errorf("first link = %q, want the %s installation link (...%s)", first, bc.wantPlatform, want)
	}
	box, err := chromedp.Call(ctx, dom.GetBoxModel, dom.GetBoxModelParams{NodeID: anchors[0].NodeID})
	if err != nil {
		t.Fatalf("measuring the installation link: %v", err)
	}
	if h := box.Model.Height; h < 44 {
		t.Errorf("installation link is %dpx tall, want at least 44px", h)
	}
	var activation *chromedp.Node
	for _, a := range anchors {
		if strings.HasSuffix(a.AttributeValue("href"), "/a/tok/activation") {
			activation = a
		}
	}
	if activation == nil {
		t.Fatal("no activation link")
	}
	if box, err := chromedp.Call(ctx, dom.GetBoxModel, dom.GetBoxModelParams{NodeID: activation.NodeID}); err != nil {
		t.Errorf("the activation link is not laid out: %v", err)
	} else if box.Model.Height < 44 {
		t.Errorf("activation link is %dpx tall, want at least 44px", box.Model.Height)
	}

	metrics, err := chromedp.Call(ctx, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		t.Fatalf("reading the layout: %v", err)
	}
	if content, view := metrics.CSSContentSize.Width, float64(metrics.CSSLayoutViewport.ClientWidth); content > view {
		t.Errorf("page is %.0fpx wide in a %.0fpx viewport: it scrolls sideways", content, view)
	}
	if view := metrics.CSSLayoutViewport.ClientWidth; view != bc.width {
		t.Errorf("layout viewport is %dpx wide, want %d: is the viewport meta tag missing?", view, bc.width)
	}

	img, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(".qr img")))
	if err != nil {
		t.Fatalf("finding the QR code: %v", err)
	}
	_, qrErr := chromedp.Call(ctx, dom.GetBoxModel, dom.GetBoxModelParams{NodeID: img[0].NodeID})
	switch {
	case !bc.mobile && qrErr != nil:
		t.Errorf("the QR code is not shown on a wide screen: %v", qrErr)
	case bc.mobile && qrErr == nil:
		t.Errorf("the QR code is shown on a phone")
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("taking the screenshot: %v", err)
	}
	if os.Getenv("ACTIVATOR_SCREENSHOTS") == "" {
		return // docs/screenshots is refreshed only when asked: scripts/screenshots
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, bc.screenshot), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}
