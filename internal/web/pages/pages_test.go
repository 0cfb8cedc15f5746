package pages

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/model"
)

func newRenderer(t testing.TB) (*Renderer, *i18n.Catalogue) {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatalf("i18n.Load: %v", err)
	}
	r, err := New(cat)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r, cat
}

const base = "https://activate.example.com/a/act_tok123"

// platformLinks lists a link for every platform, detected first, the way the
// web layer builds them.
func platformLinks(detected string) []PlatformLink {
	var out []PlatformLink
	add := func(p string) {
		out = append(out, PlatformLink{Platform: p, URL: base + "/install?platform=" + p})
	}
	if detected != "" {
		add(detected)
	}
	for _, p := range model.Platforms {
		if p != detected {
			add(p)
		}
	}
	return out
}

func landingView(lang, platform string) LandingView {
	return LandingView{
		Lang:          lang,
		Brand:         Brand{Name: "ACME Corp"},
		DisplayName:   "Ada Lovelace",
		Kind:          model.LinkActivation,
		SecurityModel: model.EndToEnd,
		Platform:      platform,
		Platforms:     platformLinks(platform),
		ActivationURL: base + "/activation",
		QRURL:         base + "/qr.svg",
		PageURL:       base,
		ExpiresAt:     time.Date(2026, time.March, 9, 14, 30, 0, 0, time.UTC),
		Now:           time.Date(2026, time.March, 3, 11, 0, 0, 0, time.UTC), // 6 days and 3.5 hours before
		ITEmail:       "it@acme.example",
		LinphoneURL:   base + "/linphone",
	}
}

func render(t *testing.T, r *Renderer, v LandingView) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.Landing(&b, v); err != nil {
		t.Fatalf("Landing: %v", err)
	}
	return b.String()
}

var hrefRE = regexp.MustCompile(`<a [^>]*href="([^"]*)"`)

// links returns the href of every link, in document order.
func links(page string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
		out = append(out, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return out
}

func TestDetectPlatform(t *testing.T) {
	tests := []struct{ name, ua, want string }{
		{"Android Chrome", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", "android"},
		{"Android Firefox", "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0", "android"},
		{"Samsung Internet", "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", "android"},
		{"iPhone Safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "ios"},
		{"iPhone Chrome", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", "ios"},
		{"iPad", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", "ios"},
		{"iPod", "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.7 Mobile/15E148 Safari/604.1", "ios"},
		{"iPadOS claiming Macintosh", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", "ios"},
		{"Windows Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80", "windows"},
		{"Windows Firefox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "windows"},
		{"macOS Safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", "macos"},
		{"macOS Chrome", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "macos"},
		{"Ubuntu Firefox", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "linux"},
		{"Linux Chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "linux"},
		{"ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", ""},
		{"curl", "curl/8.5.0", ""},
		{"Outlook link scanner", "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)", "windows"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectPlatform(tt.ua); got != tt.want {
				t.Errorf("DetectPlatform(%q) = %q, want %q", tt.ua, got, tt.want)
			}
		})
	}
}

func TestLandingInEveryLanguage(t *testing.T) {
	r, cat := newRenderer(t)
	for _, lang := range cat.Languages() {
		t.Run(lang, func(t *testing.T) {
			page := render(t, r, landingView(lang, "android"))
			for _, want := range []string{
				`<html lang="` + lang + `">`,
				`<meta name="viewport" content="width=device-width, initial-scale=1">`,
				"<style>",
				html(cat.T(lang, "landing.title")),
				html(cat.T(lang, "landing.activate")),
				html(cat.T(lang, "security.end-to-end")),
				html(cat.T(lang, "landing.qr.title")),
				html(cat.T(lang, "landing.other_platforms")),
				html(strings.ReplaceAll(cat.T(lang, "landing.expires.days"), "{{.N}}", "6")),
				`<time id="expires" datetime="2026-03-09T14:30:00Z" data-until="` + html(strings.ReplaceAll(cat.T(lang, "landing.expires.until"), "{{.Date}}", "{date}")) + `">`,
				"<script>(function () {",
				html(cat.T(lang, "landing.return")),
				"Ada Lovelace",
				"ACME Corp",
				`href="mailto:it@acme.example"`,
				`src="` + base + `/qr.svg"`,
				`<details id="another-device">`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(page, "{{") || strings.Contains(page, "landing.") || strings.Contains(page, "platform.") {
				t.Errorf("page shows a raw key or placeholder:\n%s", page)
			}
			for _, bad := range []string{"<script", "http://", "//cdn", "<link "} {
				if strings.Contains(withoutExpiryScript(t, page), bad) {
					t.Errorf("page contains %q", bad)
				}
			}
		})
	}
}

// TestLandingOrder keeps the page in the order a user reads it: the
// instruction right under the heading, step 1 then the line that says to
// come back, then step 2's button; the other devices and Linphone behind one
// disclosure after the steps; the security model after them.
func TestLandingOrder(t *testing.T) {
	r, cat := newRenderer(t)
	page := render(t, r, landingView("en", "android"))
	order := []string{
		"<h1>",
		html(cat.T("en", "landing.install.text")),
		`id="install"`,
		`id="return"`,
		`id="activate"`,
		`<details id="another-device">`,
		`href="` + base + `/install?platform=ios"`,
		`id="linphone"`,
		"</details>",
		`class="security"`,
		"<footer>",
	}
	at := -1
	for _, s := range order {
		i := strings.Index(page, s)
		if i < 0 {
			t.Fatalf("page lacks %q", s)
		}
		if i < at {
			t.Errorf("%q comes before what precedes it in %q", s, order)
		}
		at = i
	}
	// Step 2 is the one filled button; step 1's is outlined: it may be skipped.
	if !regexp.MustCompile(`class="btn primary" id="activate"`).MatchString(page) || !strings.Contains(page, `class="btn secondary" id="install"`) {
		t.Error("Activate should be the primary button and Install the secondary one")
	}
	v := landingView("en", "android")
	v.Kind, v.ActivationURL, v.LinphoneURL = model.LinkInstallation, "", ""
	page = render(t, r, v)
	if !strings.Contains(page, `class="btn primary" id="install"`) || strings.Contains(page, `id="return"`) {
		t.Error("an installation link's only step should be its primary button, with no step 2 to come back for")
	}
}

func TestExpiryInWords(t *testing.T) {
	r, cat := newRenderer(t)
	for _, c := range []struct {
		left time.Duration
		key  string
		n    string
	}{
		{7 * 24 * time.Hour, "landing.expires.days", "7"},
		{6*24*time.Hour + 23*time.Hour, "landing.expires.days", "6"}, // counted down, never up
		{48 * time.Hour, "landing.expires.days", "2"},
		{47 * time.Hour, "landing.expires.hours", "47"},
		{2 * time.Hour, "landing.expires.hours", "2"},
		{119 * time.Minute, "landing.expires.minutes", "119"},
		{2 * time.Minute, "landing.expires.minutes", "2"},
		{time.Minute, "landing.expires.soon", ""},
		{-time.Hour, "landing.expires.soon", ""},
	} {
		for _, lang := range cat.Languages() {
			got, err := r.expiresIn(lang, c.left)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(cat.T(lang, c.key), "{{.N}}", c.n); got != want {
				t.Errorf("%s, %v left: %q, want %q", lang, c.left, got, want)
			}
		}
	}
}

// html escapes s the way html/template writes text.
func html(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestDetectedPlatformComesFirst(t *testing.T) {
	r, _ := newRenderer(t)
	for _, p := range model.Platforms {
		v := landingView("en", p)
		// The order of the list must not matter: the detected one leads.
		v.Platforms = platformLinks("")
		page := render(t, r, v)
		got := links(page)
		if len(got) == 0 || got[0] != base+"/install?platform="+p {
			t.Errorf("platform %s: first link = %v", p, got)
		}
		if n := strings.Count(page, "/install?platform="+p); n != 1 {
			t.Errorf("platform %s: link appears %d times", p, n)
		}
	}
}

func TestUnknownPlatformListsEveryPlatform(t *testing.T) {
	r, cat := newRenderer(t)
	page := render(t, r, landingView("de", ""))
	if !strings.Contains(page, html(cat.T("de", "landing.install.choose"))) {
		t.Error("no choice prompt")
	}
	if strings.Contains(page, "<details>") {
		t.Error("the platforms are hidden behind <details> although none was detected")
	}
	got := links(page)
	for i, p := range model.Platforms {
		if got[i] != base+"/install?platform="+p {
			t.Errorf("link %d = %s, want platform %s", i, got[i], p)
		}
	}
}

func TestNoPlatformURLs(t *testing.T) {
	r, cat := newRenderer(t)
	v := landingView("fr", "ios")
	v.Platforms = nil
	page := render(t, r, v)
	if !strings.Contains(page, html(cat.T("fr", "landing.install.none"))) {
		t.Error("no notice that nothing can be downloaded")
	}
	if got := links(page); got[0] != base+"/activation" {
		t.Errorf("first link = %s, want the activation link", got[0])
	}
}

func TestInstallationKindHasNoActivation(t *testing.T) {
	r, cat := newRenderer(t)
	for _, lang := range cat.Languages() {
		v := landingView(lang, "ios")
		v.Kind = model.LinkInstallation
		v.ActivationURL = ""
		page := render(t, r, v)
		if strings.Contains(page, "/activation") || strings.Contains(page, html(cat.T(lang, "landing.activate"))) {
			t.Errorf("%s: installation page offers activation", lang)
		}
		if !strings.Contains(page, html(cat.T(lang, "landing.installation.next"))) {
			t.Errorf("%s: installation page does not say what comes next", lang)
		}
		if got := links(page); got[0] != base+"/install?platform=ios" {
			t.Errorf("%s: first link = %s", lang, got[0])
		}
	}
}

func TestDisplayNameIsEscaped(t *testing.T) {
	r, _ := newRenderer(t)
	v := landingView("en", "android")
	v.DisplayName = `<script>alert("x")</script> & Co`
	v.Brand.Name = `<b>Evil</b>`
	page := withoutExpiryScript(t, render(t, r, v))
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>Evil") {
		t.Fatal("markup in a name reached the page unescaped")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co") {
		t.Errorf("escaped name not found in page:\n%s", page)
	}
}

func TestLandingOptionalParts(t *testing.T) {
	r, cat := newRenderer(t)
	v := landingView("it", "android")
	v.DisplayName, v.Brand.Name, v.ITEmail, v.QRURL, v.PageURL = "", "", "", "", ""
	v.ExpiresAt = time.Time{}
	v.SecurityModel = ""
	page := render(t, r, v)
	for _, want := range []string{
		html(cat.T("it", "landing.greeting.anonymous")),
		html(cat.T("it", "company.fallback")),
		html(cat.T("it", "landing.help")),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, unwanted := range []string{"mailto:", "<img", `class="company"`, `class="security"`, "<time"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("page contains %q", unwanted)
		}
	}
}

func TestLandingErrors(t *testing.T) {
	r, _ := newRenderer(t)
	v := landingView("en", "android")
	v.Kind = "bogus"
	var b bytes.Buffer
	if err := r.Landing(&b, v); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown kind: err = %v", err)
	}
	v = landingView("en", "android")
	v.ActivationURL = ""
	if err := r.Landing(&b, v); err == nil {
		t.Error("activation page with no activation URL: no error")
	}
	if b.Len() != 0 {
		t.Errorf("a failed render wrote %d bytes", b.Len())
	}
}

func TestUnknownLanguageIsEnglish(t *testing.T) {
	r, cat := newRenderer(t)
	for _, lang := range []string{"", "pt", "xx-YY"} {
		page := render(t, r, landingView(lang, "android"))
		if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, html(cat.T("en", "landing.title"))) {
			t.Errorf("lang %q: page is not English", lang)
		}
	}
	page := render(t, r, landingView("it-IT", "android"))
	if !strings.Contains(page, `<html lang="it">`) {
		t.Error(`lang "it-IT": page is not Italian`)
	}
}

func TestLinkError(t *testing.T) {
	r, cat := newRenderer(t)
	for _, lang := range cat.Languages() {
		for _, reason := range []string{"unknown", "expired", "revoked", "used", "not_found", "something-else"} {
			t.Run(lang+"/"+reason, func(t *testing.T) {
				var b bytes.Buffer
				err := r.LinkError(&b, ErrorView{Lang: lang, Brand: Brand{Name: "ACME"}, ITEmail: "it@acme.example", Reason: reason})
				if err != nil {
					t.Fatal(err)
				}
				page := b.String()
				key := "error." + reason
				if reason == "something-else" {
					key = "error.unknown"
				}
				for _, want := range []string{
					`<html lang="` + lang + `">`,
					html(cat.T(lang, "error.title")),
					html(cat.T(lang, key)),
					html(cat.T(lang, "error.contact.email")),
					`href="mailto:it@acme.example"`,
				} {
					if !strings.Contains(page, want) {
						t.Errorf("page lacks %q", want)
					}
				}
			})
		}
	}
	var b bytes.Buffer
	if err := r.LinkError(&b, ErrorView{Reason: "expired"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), html(cat.T("en", "error.contact"))) || strings.Contains(b.String(), "mailto:") {
		t.Error("with no IT e-mail the page should only say to contact IT")
	}
}

func TestContentSecurityPolicyMatchesTheStyle(t *testing.T) {
	r, _ := newRenderer(t)
	csp := r.ContentSecurityPolicy(Brand{Name: "ACME"})
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "img-src 'self'", "script-src " + r.js + ";"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Count(csp, "script-src") != 1 {
		t.Errorf("CSP %q allows too much", csp)
	}
}

// withoutExpiryScript is page without the expiry's script, which a
// landing page with an expiry holds once; for the checks that no other
// script is on the page.
func withoutExpiryScript(t *testing.T, page string) string {
	t.Helper()
	js, err := files.ReadFile("templates/expiry.js")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(page, "<script>"+string(js)+"</script>", "", 1)
}

// TestContentSecurityPolicyMatchesTheScript: the landing page's one
// script is the one the policy allows, by its hash; the pages with no
// expiry have none.
func TestContentSecurityPolicyMatchesTheScript(t *testing.T) {
	r, _ := newRenderer(t)
	page := render(t, r, landingView("en", "android"))
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	if len(scripts) != 1 {
		t.Fatalf("the landing page has %d scripts, want 1", len(scripts))
	}
	if src := hashSource([]byte(scripts[0][1])); !strings.Contains(r.ContentSecurityPolicy(Brand{}), "script-src "+src+";") {
		t.Errorf("the policy does not allow the page's script (%s)", src)
	}
	v := landingView("en", "android")
	v.ExpiresAt = time.Time{}
	if page := render(t, r, v); strings.Contains(page, "<script") {
		t.Error("a landing page with no expiry carries the script")
	}
}

// TestContentSecurityPolicyOfABrand: a brand's colour is allowed as one
// more inline style sheet, by the hash of the very sheet the page holds,
// and its logo by its own origin or data:; a brand with neither, or with
// one the pages do not write, gets exactly the policy of no brand, and no
// brand's policy ever allows another script than the expiry's, inline
// styles at large, or images from anywhere.
func TestContentSecurityPolicyOfABrand(t *testing.T) {
	r, _ := newRenderer(t)
	plain := r.ContentSecurityPolicy(Brand{})
	if !regexp.MustCompile(`^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]{43}='; style-src 'sha256-[A-Za-z0-9+/]{43}='; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'$`).MatchString(plain) {
		t.Errorf("the policy of no brand is %q", plain)
	}
	for _, b := range []Brand{
		{Name: "ACME", Contact: "it@acme.example"},
		{Name: "ACME", Colour: "red"}, {Name: "ACME", Colour: "#12345"}, {Name: "ACME", Colour: "#12345g"},
		{Name: "ACME", Colour: "#123456;}*{color:red"},
		{Name: "ACME", LogoURL: "http://cdn.acme.example/logo.png"}, {Name: "ACME", LogoURL: "javascript:alert(1)"},
		{Name: "ACME", LogoURL: "data:text/html;base64,PHNjcmlwdD4="}, {Name: "ACME", LogoURL: "//cdn.acme.example/logo.png"},
		{Name: "ACME", LogoURL: "/brand/logo.png"},
	} {
		if got := r.ContentSecurityPolicy(b); got != plain {
			t.Errorf("%+v: policy %q, want the plain %q", b, got, plain)
		}
	}

	b := Brand{Name: "ACME", Colour: "#FFD54F", LogoURL: "https://CDN.acme.example:8443/img/logo.svg?v=2"}
	csp := r.ContentSecurityPolicy(b)
	page := render(t, r, LandingView{Brand: b, Kind: model.LinkInstallation})
	sheets := regexp.MustCompile(`<style>([^<]*)</style>`).FindAllStringSubmatch(page, -1)
	if len(sheets) != 2 || sheets[1][1] != ":root{--brand:#ffd54f;--on-brand:#000000}" {
		t.Fatalf("the page's style sheets: %q", sheets)
	}
	for _, sheet := range sheets {
		if src := hashSource([]byte(sheet[1])); !strings.Contains(csp, "style-src "+r.css) || !strings.Contains(csp, src) {
			t.Errorf("policy %q does not allow the page's style sheet %q (%s)", csp, sheet[1], src)
		}
	}
	if !strings.Contains(csp, "; img-src 'self' https://cdn.acme.example:8443; ") {
		t.Errorf("policy %q does not allow the logo's origin alone", csp)
	}
	b.LogoURL = testLogo
	csp = r.ContentSecurityPolicy(b)
	if !strings.Contains(csp, "; img-src 'self' data:; ") {
		t.Errorf("policy %q does not allow a data URI logo", csp)
	}
	if !strings.Contains(csp, "script-src "+r.js+"; ") {
		t.Errorf("policy %q allows another script than the expiry's", csp)
	}
	for _, bad := range []string{"unsafe", "*", "http:", "https:;"} {
		if strings.Contains(csp, bad) {
			t.Errorf("policy %q allows too much: %q", csp, bad)
		}
	}
}

// TestBrandColour: the colour is written as custom properties with the
// text colour that reads on it, black on light colours and white on dark.
func TestBrandColour(t *testing.T) {
	r, _ := newRenderer(t)
	for colour, want := range map[string]string{
		"#fff59d": ":root{--brand:#fff59d;--on-brand:#000000}",
		"#0A1F44": ":root{--brand:#0a1f44;--on-brand:#ffffff}",
		"#757575": ":root{--brand:#757575;--on-brand:#ffffff}", // 4.61:1 against 4.55:1 with black
		"#767676": ":root{--brand:#767676;--on-brand:#000000}", // 4.62:1 against 4.54:1 with white
		"":        "",
	} {
		v := landingView("en", "android")
		v.Brand.Colour = colour
		page := render(t, r, v)
		if got := strings.Count(page, "<style>"); (want == "") != (got == 1) {
			t.Errorf("%q: %d style sheets", colour, got)
		}
		if want != "" && !strings.Contains(page, "<style>"+want+"</style>") {
			t.Errorf("%q: the page lacks <style>%s</style>", colour, want)
		}
	}
}

func BenchmarkLanding(b *testing.B) {
	r, _ := newRenderer(b)
	v := landingView("it", "")
	v.Platform = DetectPlatform("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36")
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := r.Landing(&buf, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetectPlatform(b *testing.B) {
	ua := "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	b.ReportAllocs()
	for b.Loop() {
		if DetectPlatform(ua) != "linux" {
			b.Fatal("wrong platform")
		}
	}
}

func ExampleDetectPlatform() {
	fmt.Println(DetectPlatform("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"))
	// Output: ios
}

// TestBrandLogo: a brand with a logo shows it, named by the brand's name
// for a screen reader, with the name beside it, on the landing page and
// on the error page; without one, or with one the pages do not write, the
// name alone.
func TestBrandLogo(t *testing.T) {
	r, _ := newRenderer(t)
	for _, logo := range []string{"/brand/logo.png", "https://cdn.acme.example/logo.svg", testLogo} {
		v := landingView("en", "android")
		v.Brand.LogoURL = logo
		var e bytes.Buffer
		if err := r.LinkError(&e, ErrorView{Brand: v.Brand, Reason: "used"}); err != nil {
			t.Fatal(err)
		}
		for _, page := range []string{render(t, r, v), e.String()} {
			if !strings.Contains(page, `<img class="logo" id="logo" src="`+logo+`" alt="ACME Corp" height="32"><span aria-hidden="true">ACME Corp</span>`) {
				t.Errorf("the page does not show the logo %s beside the name:\n%s", logo, page)
			}
		}
	}
	for _, logo := range []string{"", "javascript:alert(1)", "http://cdn.acme.example/logo.png", "data:text/html;base64,PHNjcmlwdD4="} {
		v := landingView("en", "android")
		v.Brand.LogoURL = logo
		if page := render(t, r, v); strings.Contains(page, `class="logo"`) || !strings.Contains(page, "<span>ACME Corp</span>") {
			t.Errorf("a brand with logo %q shows an image, or not its name", logo)
		}
	}
}

// TestErrorPageContact: a link's error page offers its organisation's IT
// contact, an e-mail address or an https URL; without one, its group's IT
// e-mail; for an unknown link with no organisation's contact, none.
func TestErrorPageContact(t *testing.T) {
	r, _ := newRenderer(t)
	for _, c := range []struct {
		v    ErrorView
		want string
	}{
		{ErrorView{Reason: "used", ITEmail: "it@acme.example", Brand: Brand{Name: "ACME", Contact: "help@acme.example"}}, "mailto:help@acme.example"},
		{ErrorView{Reason: "revoked", ITEmail: "it@acme.example", Brand: Brand{Name: "ACME", Contact: "https://help.acme.example/phones"}}, "https://help.acme.example/phones"},
		{ErrorView{Reason: "expired", ITEmail: "it@acme.example", Brand: Brand{Name: "ACME"}}, "mailto:it@acme.example"},
		{ErrorView{Reason: "unknown", Brand: Brand{Name: "ACME", Contact: "help@acme.example"}}, "mailto:help@acme.example"},
		{ErrorView{Reason: "unknown", Brand: Brand{Name: "ACME"}}, ""},
		{ErrorView{Reason: "unknown", Brand: Brand{Name: "ACME", Contact: "javascript:alert(1)"}}, ""},
	} {
		var b bytes.Buffer
		if err := r.LinkError(&b, c.v); err != nil {
			t.Fatal(err)
		}
		got := ""
		if m := regexp.MustCompile(`id="it-contact" href="([^"]+)"`).FindStringSubmatch(b.String()); m != nil {
			got = m[1]
		}
		if got != c.want {
			t.Errorf("%+v: the contact link is %q, want %q", c.v, got, c.want)
		}
	}
}

// The landing page's footer links the user's IT contact: the group's IT
// e-mail, else the organisation's contact, never a link of another scheme.
func TestLandingPageContact(t *testing.T) {
	r, _ := newRenderer(t)
	base := LandingView{Kind: model.LinkActivation, ActivationURL: "https://a.example/a/avl_x/activation"}
	for _, c := range []struct {
		it, org, want string
	}{
		{"it@acme.example", "help@acme.example", "mailto:it@acme.example"},
		{"", "https://help.acme.example/phones", "https://help.acme.example/phones"},
		{"", "help@acme.example", "mailto:help@acme.example"},
		{"", "javascript:alert(1)", ""},
		{"", "", ""},
	} {
		v := base
		v.ITEmail, v.Brand = c.it, Brand{Name: "ACME", Contact: c.org}
		var b bytes.Buffer
		if err := r.Landing(&b, v); err != nil {
			t.Fatal(err)
		}
		got := ""
		if m := regexp.MustCompile(`href="([^"]+)" id="it-contact"`).FindStringSubmatch(b.String()); m != nil {
			got = m[1]
		}
		if got != c.want {
			t.Errorf("group %q, organisation %q: the footer links %q, want %q", c.it, c.org, got, c.want)
		}
	}
}
