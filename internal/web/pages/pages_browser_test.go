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
	"github.com/activator-voip/activator/internal/web/axetest"
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
	needChromium(t)
	r, _ := newRenderer(t)
	srv := httptest.NewServer(landingServer(t, r))
	defer srv.Close()
	browserCtx := newBrowser(t)

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
			checkLanding(tab(t, browserCtx), t, srv.URL, bc) // each case in its own tab
		})
	}
}

// needChromium skips t, or fails it under CI=true, without Chromium.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", chromiumPath, err)
		}
		t.Skipf("skipping the browser test: %s not found (apt-get install chromium); CI=true makes this a failure", chromiumPath)
	}
}

// newBrowser starts a headless Chromium for t, stopped when t ends, and
// returns its context; each case opens its own tab in it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
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
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser, with no timeout
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return browserCtx
}

// tab opens a new tab in the browser, closed when t ends.
func tab(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	tabCtx, cancelTab := chromedp.NewContext(browserCtx)
	ctx, cancel := context.WithTimeout(tabCtx, 60*time.Second)
	t.Cleanup(func() { cancel(); cancelTab() })
	return ctx
}

// noScript disables the page's JavaScript in the tab, as some users have it.
var noScript = chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
	_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	return err
})

// shownURL is the page URL the page shows and the QR code holds. The links
// are relative, so nothing on screen depends on the test server's port and
// the screenshots only change when the page does.
const shownURL = "https://activate.example.com/a/act_5mTq2ZrV8xKc4Hn7"

// expiresAt is the test link's expiry; the pages count it from landingNow.
var (
	expiresAt  = time.Date(2026, time.March, 9, 14, 30, 0, 0, time.UTC)
	landingNow = expiresAt.Add(-6*24*time.Hour - 3*time.Hour)
)

// landingServer serves the landing page the way the web layer does: the
// platform from the User-Agent, detected one first, and the QR code image;
// the language from ?lang= (English without), and ?installed for a user who
// followed the installation link already. /a/used, /a/expired and
// /a/unknown are the error pages of links that cannot be used; the unknown
// one names no group, so no IT contact.
func landingServer(t *testing.T, r *Renderer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a/{reason}", func(w http.ResponseWriter, req *http.Request) {
		v := ErrorView{Lang: req.URL.Query().Get("lang"), Brand: testBrand(req), Reason: req.PathValue("reason")}
		if v.Reason != "unknown" {
			v.ITEmail = "it-helpdesk@acme.example"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", r.ContentSecurityPolicy(v.Brand))
		w.WriteHeader(http.StatusGone)
		if err := r.LinkError(w, v); err != nil {
			t.Errorf("LinkError: %v", err)
		}
	})
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
		b := testBrand(req)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", r.ContentSecurityPolicy(b))
		err := r.Landing(w, LandingView{
			Lang:          req.URL.Query().Get("lang"),
			Brand:         b,
			DisplayName:   "Ada Lovelace-Byron, Countess of a Rather Long Name",
			Kind:          model.LinkActivation,
			SecurityModel: model.EndToEnd,
			Platform:      detected,
			Platforms:     links,
			ActivationURL: pageURL + "/activation",
			QRURL:         pageURL + "/qr.svg",
			PageURL:       shownURL,
			ExpiresAt:     expiresAt,
			Now:           landingNow,
			ITEmail:       "it-helpdesk@acme.example",
			LinphoneURL:   pageURL + "/linphone",
			InstallTapped: req.URL.Query().Has("installed"),
		})
		if err != nil {
			t.Errorf("Landing: %v", err)
		}
	})
	// The page of "Open in Linphone" (a POST in the web layer), due by
	// the link's expiry.
	mux.HandleFunc("GET /a/tok/linphone", func(w http.ResponseWriter, req *http.Request) {
		b := testBrand(req)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", r.ContentSecurityPolicy(b))
		const u = "https://activate.example.com/p/lp_5mTq2ZrV8xKc4Hn7"
		if err := r.Linphone(w, LinphoneView{Lang: req.URL.Query().Get("lang"), Brand: b, URL: u, ConfigURI: "linphone-config:" + u, FetchBy: expiresAt}); err != nil {
			t.Errorf("Linphone: %v", err)
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

// testLogo is a 4x1 PNG, wider than tall, as a data URI: the logo of
// the pages of ?logo.
const testLogo = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAQAAAABCAIAAAB2XpiaAAAAEUlEQVR4nGPgDr/w/6o/hAQAKGEGq9d/VOQAAAAASUVORK5CYII="

// longName is the name of an organisation that spells itself out in full:
// the brand of the pages of ?longname.
const longName = "Azienda Socio-Sanitaria Territoriale della Provincia di Monza e della Brianza, Servizi Informativi"

// testBrand is the brand of a test page: ACME Corp (longName with
// ?longname), in the colour of ?colour= (#rrggbb, the default look
// without), with testLogo when ?logo is given and the IT contact of
// ?contact=.
func testBrand(req *http.Request) Brand {
	q := req.URL.Query()
	b := Brand{Name: "ACME Corp", Colour: q.Get("colour"), Contact: q.Get("contact")}
	if q.Has("longname") {
		b.Name = longName
	}
	if q.Has("logo") {
		b.LogoURL = testLogo
	}
	return b
}

func checkLanding(ctx context.Context, t *testing.T, base string, bc browserCase) {
	t.Helper()
	viewport := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if bc.mobile {
		viewport = []chromedp.EmulateViewportOption{chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch}
	}
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

// phoneUA is an Android phone's browser.
const phoneUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"

// openOnPhone opens path at 360x800, the size of a small phone, as an
// Android phone's browser.
func openOnPhone(t *testing.T, ctx context.Context, url string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ua := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: phoneUA})
		return err
	})
	steps = append(steps, ua,
		chromedp.EmulateViewport(360, 800, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(url))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
}

// box is where an element is laid out, in CSS pixels of the viewport, or
// false when it is not laid out (hidden, or in a closed <details>).
func box(t *testing.T, ctx context.Context, sel string) (top, bottom float64, shown bool) {
	t.Helper()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("finding %s: %v", sel, err)
	}
	m, err := chromedp.Call(ctx, dom.GetBoxModel, dom.GetBoxModelParams{NodeID: nodes[0].NodeID})
	if err != nil || m.Model.Width == 0 || m.Model.Height == 0 {
		return 0, 0, false
	}
	return m.Model.Border[1], m.Model.Border[1] + float64(m.Model.Height), true
}

// TestLandingActivateFitsAPhone opens the landing page of an activation
// link on a 360x800 phone in every language, JavaScript off, before and
// after the user followed the installation link: Activate is
// on the first screen, whole, with no scrolling; "Open in Linphone" waits
// behind "Another device?" until the user opens it.
func TestLandingActivateFitsAPhone(t *testing.T) {
	needChromium(t)
	r, cat := newRenderer(t)
	srv := httptest.NewServer(landingServer(t, r))
	defer srv.Close()
	browserCtx := newBrowser(t)
	for _, lang := range cat.Languages() {
		t.Run(lang+"/installed", func(t *testing.T) {
			// Back after installing: step 1 says so, in other words.
			ctx := tab(t, browserCtx)
			openOnPhone(t, ctx, srv.URL+"/a/tok?installed&lang="+lang, noScript)
			if top, bottom, shown := box(t, ctx, "#activate"); !shown || top < 0 || bottom > 800 {
				t.Errorf("the Activate button spans %.0f to %.0fpx of an 800px screen (laid out: %v)", top, bottom, shown)
			}
		})
		t.Run(lang, func(t *testing.T) {
			ctx := tab(t, browserCtx)
			openOnPhone(t, ctx, srv.URL+"/a/tok?lang="+lang, noScript)
			top, bottom, shown := box(t, ctx, "#activate")
			if !shown {
				t.Fatal("the Activate button is not laid out")
			}
			if top < 0 || bottom > 800 {
				t.Errorf("the Activate button spans %.0f to %.0fpx of an 800px screen: the user must scroll to find it", top, bottom)
			}
			// A closed <details> still lays its content out, unseen: the
			// button is hidden when it lies outside the disclosure's box.
			_, closed, _ := box(t, ctx, "#another-device")
			button, _, _ := box(t, ctx, "#another-device #linphone")
			if button < closed {
				t.Error(`"Open in Linphone" is shown before "Another device?" is opened`)
			}
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#another-device summary"))); err != nil {
				t.Fatalf("opening Another device?: %v", err)
			}
			// The click scrolls the page: measure both again.
			_, open, _ := box(t, ctx, "#another-device")
			if button, _, _ = box(t, ctx, "#another-device #linphone"); button >= open {
				t.Error(`"Another device?" opened does not show "Open in Linphone"`)
			}
		})
	}
}

// TestLandingAccessibility runs axe-core on the landing page of a live
// link, on a phone and on a desktop, and on the error pages of a used, an
// expired and an unknown link; no rule may be broken. The error pages of a
// link whose group has an IT contact offer it as a mailto: link.
func TestLandingAccessibility(t *testing.T) {
	needChromium(t)
	axetest.Need(t)
	r, _ := newRenderer(t)
	mux := http.NewServeMux()
	mux.Handle("/a/", landingServer(t, r))
	// The neutral page of a host that is no organisation's.
	mux.HandleFunc("GET /unknown-host", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", r.ContentSecurityPolicy(Brand{}))
		w.WriteHeader(http.StatusNotFound)
		if err := r.UnknownHost(w, req.URL.Query().Get("lang"), req.URL.Query().Get("provider")); err != nil {
			t.Errorf("UnknownHost: %v", err)
		}
	})
	// A page that breaks a rule, so the check is seen to find what it looks for.
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><title>t</title><main><h1>t</h1><img src="/nothing.png"></main></html>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	browserCtx := newBrowser(t)
	t.Run("a broken page", func(t *testing.T) {
		ctx := tab(t, browserCtx)
		openOnPhone(t, ctx, srv.URL+"/broken")
		vs, err := axetest.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || vs[0].ID != "image-alt" || len(vs[0].Nodes) != 1 {
			t.Errorf("axe-core found %v on a page whose one fault is an image with no alt, want image-alt", vs)
		}
	})
	for _, c := range []struct {
		name, path string
		desktop    bool
	}{
		{"live link on a phone", "/a/tok", false},
		{"live link on a desktop", "/a/tok?lang=de", true},
		{"live link in dark mode", "/a/tok?lang=fr", false},
		{"Open in Linphone page", "/a/tok/linphone?lang=it", false},
		{"long organisation name with a logo", "/a/tok?longname&logo&colour=%230a1f44&lang=de", false},
		{"used link", "/a/used", false},
		{"expired link", "/a/expired?lang=it", false},
		{"unknown link", "/a/unknown", false},
		{"unknown host", "/unknown-host", false},
		{"unknown host of a named provider in dark mode", "/unknown-host?provider=Provider+Telecom&lang=de", false},
		// Brand colours at both ends of the scale: the button's text turns
		// black or white, so it passes whatever the colour.
		{"light yellow brand", "/a/tok?colour=%23fff59d&logo", false},
		{"dark blue brand on a desktop", "/a/tok?colour=%230a1f44&logo&lang=de", true},
		{"light yellow brand in dark mode", "/a/tok?colour=%23fff59d&logo&lang=fr", false},
		{"dark blue brand in dark mode", "/a/tok?colour=%230a1f44&logo", false},
		{"used link of a brand", "/a/used?colour=%230a1f44&logo&contact=https://help.acme.example/phones", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := tab(t, browserCtx)
			if c.desktop {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+c.path)); err != nil {
					t.Fatal(err)
				}
			} else {
				var steps []chromedp.Action[chromedp.Void]
				if strings.Contains(c.name, "dark") {
					steps = append(steps, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
						_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
							Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
						return err
					}))
				}
				openOnPhone(t, ctx, srv.URL+c.path, steps...)
				if dark, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`matchMedia("(prefers-color-scheme: dark)").matches`)); err != nil || dark != (len(steps) > 0) {
					t.Fatalf("the page's colour scheme is dark: %v (%v), want %v", dark, err, len(steps) > 0)
				}
			}
			axetest.Check(t, ctx, c.name)
			if strings.Contains(c.path, "logo") {
				checkBrand(t, ctx, c.path)
			}
			if strings.Contains(c.path, "contact=") {
				href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#it-contact") || {}).href || ""`))
				if err != nil || href != "https://help.acme.example/phones" {
					t.Errorf("the error page's IT contact link is %q (%v), want the brand's https://help.acme.example/phones", href, err)
				}
			} else if c.path == "/a/used" || strings.HasPrefix(c.path, "/a/expired") {
				href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#it-contact") || {}).href || ""`))
				if err != nil || href != "mailto:it-helpdesk@acme.example" {
					t.Errorf("the error page's IT contact link is %q (%v), want mailto:it-helpdesk@acme.example", href, err)
				}
			}
		})
	}
}

// checkBrand checks a page of a brand with a logo and colour as the
// browser shows it under the page's Content-Security-Policy: the logo is
// loaded and keeps its 4:1 shape, and the Activate button, on a landing
// page, has the brand's colour as its background.
func checkBrand(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	logo, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const i = document.querySelector("#logo"); const b = i.getBoundingClientRect(); return [i.naturalWidth, b.width, b.height] })()`))
	if err != nil {
		t.Fatalf("measuring the logo: %v", err)
	}
	if logo[0] != 4 || logo[2] < 16 || logo[1] < 3.9*logo[2] || logo[1] > 4.1*logo[2] {
		t.Errorf("the logo is %vpx of natural width, shown %vx%v: want it loaded (4px wide) and shown four times as wide as tall", logo[0], logo[1], logo[2])
	}
	if !strings.HasPrefix(path, "/a/tok") {
		return
	}
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#activate")).backgroundColor`))
	want := map[bool]string{true: "rgb(255, 245, 157)", false: "rgb(10, 31, 68)"}[strings.Contains(path, "fff59d")]
	if err != nil || bg != want {
		t.Errorf("the Activate button's background is %q (%v), want the brand colour %s", bg, err, want)
	}
}
