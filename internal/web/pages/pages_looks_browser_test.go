package pages

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// landingLayout is how the landing page is laid out on the screen, in CSS
// pixels of the viewport.
type landingLayout struct {
	ActivateTop, ActivateBottom float64
	ActivateShown               bool // on the screen, and a tap at its middle lands on it
	Step1, Step2                string
	Step1Top, Step2Top          float64
	Step1Border, Step2Border    float64
	InstallPrimary              bool
	ActivatePrimary             bool
	InstallBg, ActivateBg       string
	Step1Mark                   string // what follows step 1's heading: a check mark once done
	ReturnShown                 bool
	ReturnInStep1               bool
	IntroBottom                 float64
	SecurityTop, Step2Bottom    float64
	CompanyBottom, H1Top        float64
	CompanyShown                bool
	CompanyText, LogoAlt        string
	LogoLoaded                  bool
}

const landingLayoutJS = `(() => {
  const q = s => document.querySelector(s), r = e => e.getBoundingClientRect();
  const shown = e => { if (!e) return false; const b = r(e); if (!b.width || !b.height) return false;
    const at = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2); return at !== null && e.contains(at); };
  const act = q("#activate"), s1 = q("section.step.first"), s2 = q("section.step.next"), inst = s1.querySelector(".btn");
  const cs = e => getComputedStyle(e), ret = q("#return"), sec = q(".security"), co = q(".company"), logo = q("#logo");
  return {
    ActivateTop: r(act).top, ActivateBottom: r(act).bottom, ActivateShown: shown(act),
    Step1: s1.querySelector("h2").textContent, Step2: s2.querySelector("h2").textContent,
    Step1Top: r(s1).top, Step2Top: r(s2).top,
    Step1Border: parseFloat(cs(s1).borderTopWidth), Step2Border: parseFloat(cs(s2).borderTopWidth),
    InstallPrimary: inst.classList.contains("primary"), ActivatePrimary: act.classList.contains("primary"),
    InstallBg: cs(inst).backgroundColor, ActivateBg: cs(act).backgroundColor,
    Step1Mark: getComputedStyle(s1.querySelector("h2"), "::after").content,
    ReturnShown: shown(ret), ReturnInStep1: ret !== null && s1.contains(ret),
    IntroBottom: r(q("h1 + p")).bottom,
    SecurityTop: sec ? r(sec).top : -1, Step2Bottom: r(s2).bottom,
    CompanyBottom: co ? r(co).bottom : -1, H1Top: r(q("h1")).top, CompanyShown: shown(co),
    CompanyText: co ? co.textContent : "", LogoAlt: logo ? logo.alt : "", LogoLoaded: logo !== null && logo.complete && logo.naturalWidth > 0,
  };
})()`

// TestLandingLooksOnAPhone opens the landing page of an activation link
// on a 360x800 phone in every language, JavaScript off, for an
// organisation with a long name and a logo, before and after the user
// followed the installation link, and checks what the user must see on
// the first screen: the organisation's name and logo above the heading,
// the two steps in order, step 1 quiet (a secondary button, a thin
// border; a check mark once done) and step 2 the obvious next tap (the
// primary button, in the brand's colour, a thicker border), the line
// that says to come back after installing, and Activate whole on the
// screen with no scrolling; the security model's box comes after the
// steps, not between the heading and what to do.
func TestLandingLooksOnAPhone(t *testing.T) {
	needChromium(t)
	r, cat := newRenderer(t)
	srv := httptest.NewServer(landingServer(t, r))
	defer srv.Close()
	browserCtx := newBrowser(t)
	for _, lang := range cat.Languages() {
		for _, installed := range []bool{false, true} {
			name := lang
			path := "/a/tok?longname&logo&colour=%230a1f44&lang=" + lang
			if installed {
				name, path = lang+"/installed", path+"&installed"
			}
			t.Run(name, func(t *testing.T) {
				ctx := tab(t, browserCtx)
				openOnPhone(t, ctx, srv.URL+path, noScript)
				l, err := chromedp.Run(ctx, chromedp.Evaluate[landingLayout](landingLayoutJS))
				if err != nil {
					t.Fatalf("measuring the page: %v", err)
				}
				if !l.ActivateShown || l.ActivateTop < 0 || l.ActivateBottom > 800 {
					t.Errorf("the Activate button spans %.0f to %.0fpx of an 800px screen (shown: %v): the user must scroll to find it", l.ActivateTop, l.ActivateBottom, l.ActivateShown)
				}
				if !strings.HasPrefix(l.Step1, "1") || !strings.HasPrefix(l.Step2, "2") || l.Step1Top >= l.Step2Top {
					t.Errorf("the steps read %q at %.0fpx then %q at %.0fpx, want step 1 above step 2, numbered", l.Step1, l.Step1Top, l.Step2, l.Step2Top)
				}
				if l.InstallPrimary || !l.ActivatePrimary || l.InstallBg == l.ActivateBg || l.ActivateBg != "rgb(10, 31, 68)" {
					t.Errorf("install button primary: %v (%s), Activate primary: %v (%s): want Activate alone the primary button, in the brand's colour", l.InstallPrimary, l.InstallBg, l.ActivatePrimary, l.ActivateBg)
				}
				if l.Step2Border <= l.Step1Border {
					t.Errorf("step 2's border is %vpx, step 1's %vpx: want step 2 to stand out", l.Step2Border, l.Step1Border)
				}
				if done := strings.Contains(l.Step1Mark, "✓"); done != installed {
					t.Errorf("step 1's heading is followed by %s, want a check mark: %v", l.Step1Mark, installed)
				}
				if !installed && (!l.ReturnShown || !l.ReturnInStep1) {
					t.Errorf("the line saying to come back after installing is shown: %v, in step 1: %v", l.ReturnShown, l.ReturnInStep1)
				}
				if l.SecurityTop < l.Step2Bottom {
					t.Errorf("the security box starts at %.0fpx, above the end of step 2 (%.0fpx): it stands between the heading and what to do", l.SecurityTop, l.Step2Bottom)
				}
				if !l.CompanyShown || l.CompanyBottom > l.H1Top || !strings.Contains(l.CompanyText, longName) || l.LogoAlt != longName || !l.LogoLoaded {
					t.Errorf("the organisation above the heading: shown %v, ends at %.0fpx (heading at %.0fpx), text %q, logo loaded %v with alt %q; want its name and logo first",
						l.CompanyShown, l.CompanyBottom, l.H1Top, l.CompanyText, l.LogoLoaded, l.LogoAlt)
				}
			})
		}
	}
}

// TestLandingExpiryInLocalTime opens the landing page, and the page of
// "Open in Linphone", with their script on in browsers in three time
// zones and languages: the expiry line gives the date and time the link
// expires in the browser's own zone and way of writing dates (14:30 UTC
// is 15:30 in Rome, and 10:30 in New York, where summer time began the
// day before). With no script it stays in words on the landing page, and
// in UTC, named, on the Linphone page.
func TestLandingExpiryInLocalTime(t *testing.T) {
	needChromium(t)
	r, _ := newRenderer(t)
	srv := httptest.NewServer(landingServer(t, r))
	defer srv.Close()
	browserCtx := newBrowser(t)
	for _, c := range []struct {
		page, zone, locale, lang, want string
	}{
		{"/a/tok", "Europe/Rome", "it-IT", "it", "Questo link è valido fino al 9 marzo 2026 alle ore 15:30."},
		{"/a/tok", "America/New_York", "en-US", "en", "This link is valid until March 9, 2026 at 10:30 AM."},
		{"/a/tok", "Asia/Tokyo", "en-GB", "en", "This link is valid until 9 March 2026 at 23:30."},
		{"/a/tok/linphone", "Europe/Rome", "it-IT", "it", "Questo indirizzo va usato entro 9 marzo 2026 alle ore 15:30. È personale: non condividerlo."},
		{"/a/tok/linphone", "America/New_York", "en-US", "en", "This address must be used before March 9, 2026 at 10:30 AM. It is personal: do not share it."},
	} {
		t.Run(c.page+"/"+c.zone, func(t *testing.T) {
			ctx := tab(t, browserCtx)
			zone := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: c.zone}); err != nil {
					return err
				}
				_, err := cdp.Call(ctx, tg, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: c.locale})
				return err
			})
			openOnPhone(t, ctx, srv.URL+c.page+"?lang="+c.lang, zone)
			got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector("#expires").textContent, document.querySelector("#expires").getAttribute("datetime")]`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(strings.Fields(got[0]), " ") != c.want || got[1] != "2026-03-09T14:30:00Z" {
				t.Errorf("in %s (%s) the expiry reads %q (datetime %q), want %q", c.zone, c.locale, got[0], got[1], c.want)
			}
		})
	}
	t.Run("no script", func(t *testing.T) {
		ctx := tab(t, browserCtx)
		openOnPhone(t, ctx, srv.URL+"/a/tok", noScript)
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#expires")))
		if err != nil {
			t.Fatal(err)
		}
		if got != "This link is valid for 6 more days." {
			t.Errorf("with no script the expiry reads %q, want it in words", got)
		}
		openOnPhone(t, ctx, srv.URL+"/a/tok/linphone", noScript)
		if got, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#expires"))); err != nil || got != "This address must be used before 9 March 2026, 14:30 UTC. It is personal: do not share it." {
			t.Errorf("with no script the Linphone page's expiry reads %q (%v), want it in UTC", got, err)
		}
	})
}

// TestErrorPagesOfferTheITContact opens the page of an unknown, a used and
// an expired link on a phone: each offers the IT contact as a link on the
// screen, the group's IT e-mail where the link is known, else the
// organisation's own contact.
func TestErrorPagesOfferTheITContact(t *testing.T) {
	needChromium(t)
	r, _ := newRenderer(t)
	srv := httptest.NewServer(landingServer(t, r))
	defer srv.Close()
	browserCtx := newBrowser(t)
	for _, c := range []struct{ path, want string }{
		{"/a/unknown?contact=it-desk@acme.example", "mailto:it-desk@acme.example"},
		{"/a/unknown?contact=https://help.acme.example/phones&lang=de", "https://help.acme.example/phones"},
		{"/a/used?lang=fr", "mailto:it-helpdesk@acme.example"},
		{"/a/expired?lang=es", "mailto:it-helpdesk@acme.example"},
	} {
		t.Run(c.path, func(t *testing.T) {
			ctx := tab(t, browserCtx)
			openOnPhone(t, ctx, srv.URL+c.path, noScript)
			got, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`(() => { const a = document.querySelector("a#it-contact"); if (!a) return ["", false];
  const b = a.getBoundingClientRect(), at = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
  return [a.href, at !== null && a.contains(at) && b.bottom <= innerHeight]; })()`))
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != c.want || got[1] != true {
				t.Errorf("the IT contact link is %q (on the screen: %v), want %s", got[0], got[1], c.want)
			}
		})
	}
}
