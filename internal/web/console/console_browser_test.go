package console_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/activator-voip/activator/client"
	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/web/axetest"
	"github.com/activator-voip/activator/internal/web/console"
)

// chromiumPath is Debian's Chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

// screenshotDir is docs/screenshots at the root of the repository.
const screenshotDir = "../../../docs/screenshots"

// writeScreenshots says whether this run refreshes docs/screenshots: only
// when asked (scripts/screenshots sets it), so a test run never changes the
// working tree.
var writeScreenshots = os.Getenv("ACTIVATOR_SCREENSHOTS") != ""

// checkAccessibility says whether shoot runs axe-core on every page it
// takes (when it is installed: axetest.Available).
var checkAccessibility bool

func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", chromiumPath, err)
		}
		t.Skipf("skipping the browser test: %s not found (apt-get install chromium); CI=true makes this a failure", chromiumPath)
	}
}

// browser starts a headless Chromium with the flags that work in CI and
// returns a context for one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
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
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 5*time.Minute) // a bound for a hang: the whole console tour, screenshots and accessibility checks included, on a loaded machine
	t.Cleanup(cancelT)
	return tctx
}

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > 2*time.Second {
			t.Logf("%s took %v", what, d.Round(time.Millisecond))
		}
	}()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s: %v (page %s: %.400s)", what, err, loc, body)
	}
}

// get runs one action that gives a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, "reading "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// waitFor waits until a JavaScript condition holds on the page, across
// the navigation a form post causes.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	t.Fatalf("%s: %s never held (page %s: %.400s)", what, cond, loc, body)
}

// viewport sets a desktop or phone viewport.
func viewport(phone bool) chromedp.Action[chromedp.Void] {
	if phone {
		return chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(1280, 900, chromedp.EmulateScale(1))
}

// shoot takes a full-page screenshot of the current page at desktop and
// phone width, checks that the phone layout does not scroll sideways, and
// saves them in docs/screenshots when asked (writeScreenshots).
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("screenshots of %s: %v", name, time.Since(start).Round(time.Millisecond)) }()
	shot[name] = true
	for _, phone := range []bool{false, true} {
		suffix := "desktop"
		if phone {
			suffix = "phone"
		}
		run(t, ctx, "viewport", viewport(phone), chromedp.Sleep(150*time.Millisecond))
		if checkAccessibility {
			// At both widths: on a phone tables scroll sideways and the
			// menu folds; on a wide screen the columns and the menu's one
			// line have their own colours and places.
			axetest.Check(t, ctx, name+" ("+suffix+")")
		}
		png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
		if phone {
			metrics, err := chromedp.Call(ctx, page.GetLayoutMetrics, cdp.Empty{})
			if err != nil {
				t.Fatalf("layout of %s: %v", name, err)
			}
			if content, view := metrics.CSSContentSize.Width, float64(metrics.CSSLayoutViewport.ClientWidth); content > view+1 {
				t.Errorf("%s is %.0fpx wide on a %.0fpx phone screen: it scrolls sideways", name, content, view)
			}
		}
		if !writeScreenshots {
			continue
		}
		if err := os.WriteFile(filepath.Join(screenshotDir, screenshotFile(name, suffix)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, ctx, "back to desktop", viewport(false))
}

// TestConsoleInBrowser drives the console in a real Chromium: an operator
// sets a password, logs in, creates an account (a bad number first),
// sends its activation, reads the message in the outbox viewer, follows
// the link in another tab (the account page says "opened" by itself),
// activates with the reference client, and watches the account page say
// "activated" without a reload; then imports a CSV with good and bad rows,
// imports with sending and a progress bar, shows a QR code, and reads the
// audit log and the message templates.
func TestConsoleInBrowser(t *testing.T) {
	needChromium(t)
	checkAccessibility = axetest.Available(t)
	shot = map[string]bool{}
	ts := startConsole(t, "")
	ctx := context.Background()
	if _, err := ts.app.Domain.Groups.Create(ctx, model.GroupInput{Name: strp("sales"), ITEmail: strp("it@example.com")}, tester); err != nil {
		t.Fatal(err)
	}
	// Ada is the provider admin: she sees every page, the organisations' too.
	provider := activation.Caller{Name: "provider", Role: model.RoleProvider, OrgID: model.DefaultOrgID}
	created, err := ts.app.Domain.Operators.Create(ctx, model.OperatorInput{Name: strp("ada"), Role: new(model.RoleProvider)}, provider)
	if err != nil {
		t.Fatal(err)
	}
	b := browser(t)

	// The one-time link: set a password, which logs in.
	run(t, b, "set-password page", viewport(false), chromedp.Navigate(created.SetPasswordURL), chromedp.WaitVisible(chromedp.CSS("#set-password")))
	run(t, b, "set password",
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password2]`), "a long enough password"),
		chromedp.Click(chromedp.CSS("#set-password")),
		chromedp.WaitVisible(chromedp.CSS("#dash-counts")))

	// Log out, then log in with the password; a wrong one first.
	run(t, b, "log out", chromedp.Click(chromedp.CSS(".who button")), chromedp.WaitVisible(chromedp.CSS("#login")))
	shoot(t, b, "login")
	run(t, b, "wrong password",
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "ada"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "not the password"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")))
	run(t, b, "log in",
		chromedp.SetValue(chromedp.CSS(`input[name=name]`), "ada"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "a long enough password"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#dash-counts")))

	// Create an account: a landline number is refused on its field, the form keeps the input.
	run(t, b, "new account form", chromedp.Navigate(ts.url+"/console/accounts/new"), chromedp.WaitVisible(chromedp.CSS("#account-form")),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Ada Lovelace"),
		chromedp.SetValue(chromedp.CSS(`select[name=group]`), "sales"),
		chromedp.SendKeys(chromedp.CSS(`input[name=mobile]`), "+39 06 1234 5678"),
		chromedp.Click(chromedp.CSS("#save-account")),
		chromedp.WaitVisible(chromedp.CSS(`.ferr[data-field=mobile]`)))
	if msg := textOf(t, b, `.ferr[data-field=mobile]`); !strings.Contains(msg, "landline") {
		t.Errorf("the mobile field's error says %q, want it to explain the landline", msg)
	}
	kept := get(t, b, "kept name", chromedp.Value(chromedp.CSS(`input[name=name]`)))
	if kept != "Ada Lovelace" {
		t.Errorf("the form lost the name: %q", kept)
	}
	shoot(t, b, "account-form")
	run(t, b, "fix the number",
		chromedp.SetValue(chromedp.CSS(`input[name=mobile]`), "+39 333 123 4567"),
		chromedp.Click(chromedp.CSS("#save-account")),
		chromedp.WaitVisible(chromedp.CSS("#account-status")))
	loc := get(t, b, "location", chromedp.Location())
	username := loc[strings.LastIndex(loc, "/")+1:]
	if i := strings.Index(username, "?"); i >= 0 {
		username = username[:i]
	}
	if st := textOf(t, b, "#account-status"); strings.TrimSpace(st) != "new" {
		t.Fatalf("new account status %q", st)
	}

	// Send the activation by SMS; the outbox viewer shows the message.
	run(t, b, "send", chromedp.SetValue(chromedp.CSS(`select[name=kind]`), "activation"), chromedp.SetValue(chromedp.CSS(`select[name=channel]`), "sms"),
		chromedp.Click(chromedp.CSS("#send")))
	waitFor(t, b, "the send's answer", `(document.querySelector(".flash") || {textContent: ""}).textContent.includes("queued")`)
	if f := textOf(t, b, "main"); !strings.Contains(f, "+393331234567") {
		t.Errorf("the account page after sending does not list the message to +393331234567: %q", f)
	}
	var outboxRow string
	deadline := time.Now().Add(20 * time.Second)
	for {
		run(t, b, "outbox", chromedp.Navigate(ts.url+"/console/outbox"), chromedp.WaitVisible(chromedp.CSS("#outbox")))
		outboxRow = textOf(t, b, "#outbox tbody")
		if strings.Contains(outboxRow, "+393331234567") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(outboxRow, "+393331234567") || !strings.Contains(outboxRow, "avl_") {
		t.Fatalf("the outbox does not show the SMS: %q", outboxRow)
	}
	if strings.Count(outboxRow, "avl_") > 0 && !strings.Contains(outboxRow, "…") {
		t.Errorf("the outbox listing shows a whole link: %q", outboxRow)
	}
	shoot(t, b, "outbox")
	run(t, b, "open the message", chromedp.Click(chromedp.CSS("#outbox tbody a")), chromedp.WaitVisible(chromedp.CSS("#message-body")))
	body := textOf(t, b, "#message-body")
	i := strings.Index(body, "http")
	if i < 0 {
		t.Fatalf("the message has no link: %q", body)
	}
	link := strings.Fields(body[i:])[0]

	// The account page, then the device activates: the page changes by itself.
	run(t, b, "account page", chromedp.Navigate(ts.url+"/console/accounts/"+username), chromedp.WaitVisible(chromedp.CSS("#account-status")))
	get(t, b, "mark the page", chromedp.Evaluate[int](`window.__sameLoad = 42`))
	if st := textOf(t, b, "#account-status"); strings.TrimSpace(st) != "invited" {
		t.Errorf("after sending, status %q, want invited", st)
	}
	// The user follows the link, in another tab: the landing page opens and
	// the CSR's page says "opened" by itself.
	phone, closePhone := chromedp.NewContext(b)
	run(t, phone, "the link's landing page", viewport(true), chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`a[href$="/activation"]`)))
	closePhone()
	waitFor(t, b, "opened, live", `document.querySelector("#account-status").textContent.trim() === "opened"`)
	res, err := client.Activate(ctx, link, client.Options{Dir: t.TempDir(), AllowHTTP: true})
	if err != nil {
		t.Fatalf("the reference client could not activate: %v", err)
	}
	if res.Config.Account.Username != username {
		t.Errorf("the device got username %q, want %q", res.Config.Account.Username, username)
	}
	activatedAt := time.Now()
	var status string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		status = textOf(t, b, "#account-status")
		if strings.TrimSpace(status) == "activated" {
			break
		}
	}
	t.Logf("activated shown after %v", time.Since(activatedAt).Round(time.Millisecond))
	if strings.TrimSpace(status) != "activated" {
		t.Fatalf("the account page still says %q, want activated without a reload", status)
	}
	same := get(t, b, "no reload", chromedp.Evaluate[int](`window.__sameLoad || 0`))
	if same != 42 {
		t.Error("the page was reloaded: the live update must change it in place")
	}
	if d := textOf(t, b, "#account-devices"); !strings.Contains(d, "live") {
		t.Errorf("the devices section did not update: %q", d)
	}
	// The polls that found nothing new were answered 304, with no body.
	waitFor(t, b, "a poll answered 304", `performance.getEntriesByType("resource").some(e => e.initiatorType === "fetch" && e.responseStatus === 304)`)
	shoot(t, b, "account")

	// The account list, and the dashboard.
	run(t, b, "accounts", chromedp.Navigate(ts.url+"/console/accounts"), chromedp.WaitVisible(chromedp.CSS("#accounts")))
	if l := textOf(t, b, "#accounts tbody"); !strings.Contains(l, "Ada Lovelace") || !strings.Contains(l, "activated") {
		t.Errorf("the account list: %q", l)
	}
	shoot(t, b, "accounts")
	run(t, b, "dashboard", chromedp.Navigate(ts.url+"/console/"), chromedp.WaitVisible(chromedp.CSS("#dash-counts")))
	checkMenu(t, b, 1280)
	checkMenu(t, b, 360)
	shoot(t, b, "dashboard")

	// Import: good and bad rows; the preview names the bad cells and nothing
	// is imported before the confirmation.
	csvPath := filepath.Join(t.TempDir(), "staff.csv")
	csv := "full name,mobile number,e-mail,security model,group\n" +
		"Charles Babbage,+39 333 765 4321,charles@example.com,end-to-site,\n" +
		"Mary Somerville,,mary@example.com,,sales\n" +
		"Bad Number,12,,,\n" +
		"Bad Model,,bm@example.com,sideways,\n" +
		"Ada Again,+39 333 123 4567,,,\n"
	if err := os.WriteFile(csvPath, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	before := countAccounts(t, ts)
	run(t, b, "import form", chromedp.Navigate(ts.url+"/console/import"), chromedp.WaitVisible(chromedp.CSS("#import-form")),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=file]`), []string{csvPath}),
		chromedp.SetValue(chromedp.CSS(`#import-form select[name=group]`), "sales"),
		chromedp.Click(chromedp.CSS("#preview")),
		chromedp.WaitVisible(chromedp.CSS("#import-summary")))
	errs := textOf(t, b, "#import-errors tbody")
	for _, want := range []string{"mobile number", "security model", "sideways"} {
		if !strings.Contains(errs, want) {
			t.Errorf("the preview's bad cells do not name %q: %q", want, errs)
		}
	}
	badRows := get(t, b, "bad rows", chromedp.Evaluate[int](`document.querySelectorAll("#import-errors tr.bad-cell").length`))
	if badRows != 2 {
		t.Errorf("%d bad cells shown, want 2", badRows)
	}
	if sum := textOf(t, b, "#import-summary"); !strings.Contains(sum, "2 to create") || !strings.Contains(sum, "1 already exist") {
		t.Errorf("summary: %q", sum)
	}
	if n := countAccounts(t, ts); n != before {
		t.Fatalf("the preview imported %d accounts", n-before)
	}
	shoot(t, b, "import-preview")
	run(t, b, "confirm", chromedp.Click(chromedp.CSS("#confirm-import")))
	waitFor(t, b, "the import's end", `(document.querySelector(".flash") || {textContent: ""}).textContent.includes("Imported")`)
	if st := textOf(t, b, "#import-state"); st != "done" {
		t.Errorf("import state %q, want done", st)
	}
	if n := countAccounts(t, ts); n != before+2 {
		t.Errorf("the import created %d accounts, want 2", n-before)
	}

	// An import that sends: the console drives the sending in batches and
	// its progress bar fills up without a reload.
	csv2 := filepath.Join(t.TempDir(), "more.csv")
	var more strings.Builder
	more.WriteString("full name;e-mail\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&more, "Person %d;person%d@example.com\n", i, i)
	}
	if err := os.WriteFile(csv2, []byte(more.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, b, "import with sending", chromedp.Navigate(ts.url+"/console/import"), chromedp.WaitVisible(chromedp.CSS("#import-form")),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=file]`), []string{csv2}),
		chromedp.SetValue(chromedp.CSS(`#import-form select[name=group]`), "sales"),
		chromedp.SetValue(chromedp.CSS(`#import-form select[name=send]`), "email"),
		chromedp.Click(chromedp.CSS("#preview")), chromedp.WaitVisible(chromedp.CSS("#confirm-import")))
	get(t, b, "mark the page", chromedp.Evaluate[int](`window.__sameLoad = 7`))
	run(t, b, "confirm and send", chromedp.Click(chromedp.CSS("#confirm-import")))
	waitFor(t, b, "the sending's end", `(document.querySelector("#import-state") || {}).textContent === "done" && document.querySelector("#send-progress") && document.querySelector("#send-progress").value === 60`)
	if ms, _ := ts.app.Domain.Messages.List(ctx, "", "", 1000, tester); len(ms) < 61 {
		t.Errorf("%d messages after sending to 60 imported accounts", len(ms))
	}

	// A QR code for someone in front of the CSR: a new link, shown once,
	// that the reference client activates with.
	mary, err := ts.app.Domain.Accounts.List(ctx, "", "", "mary@example.com", 1, 0, tester)
	if err != nil || len(mary) != 1 {
		t.Fatalf("the imported account: %v %v", mary, err)
	}
	run(t, b, "qr", chromedp.Navigate(ts.url+"/console/accounts/"+mary[0].Username), chromedp.WaitVisible(chromedp.CSS("#show-qr")),
		chromedp.Click(chromedp.CSS("#show-qr")), chromedp.WaitVisible(chromedp.CSS("#account-qr")))
	if checkAccessibility {
		axetest.Check(t, b, "account-qr")
	}
	qrLink := strings.TrimSpace(textOf(t, b, ".qr-card .url"))
	if !strings.Contains(qrLink, "/a/avl_") {
		t.Fatalf("the QR page shows %q", qrLink)
	}
	if _, err := client.Activate(ctx, qrLink, client.Options{Dir: t.TempDir(), AllowHTTP: true}); err != nil {
		t.Fatalf("activating from the QR code's link: %v", err)
	}
	if a, _ := ts.app.Domain.Accounts.Get(ctx, mary[0].Username, tester); a.Account.Status != model.StageActivated {
		t.Errorf("after the QR activation the account is %s", a.Account.Status)
	}

	// The audit log shows what was done, by whom.
	run(t, b, "audit", chromedp.Navigate(ts.url+"/console/audit"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	audit := textOf(t, b, "#audit tbody")
	for _, want := range []string{"POST /console/accounts/new", "POST /console/accounts/{username}/send", "POST /console/imports/{id}/confirm", "account:" + username, "POST /console/accounts/{username}/qr"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
	shoot(t, b, "audit")

	// The message templates: an SMS with its segment count, then the e-mail
	// as soon as the channel changes.
	run(t, b, "templates", chromedp.Navigate(ts.url+"/console/templates?channel=sms&kind=activation&language=it"), chromedp.WaitVisible(chromedp.CSS("#sms-segments")))
	if seg := textOf(t, b, "#sms-segments"); !strings.Contains(seg, "segment") {
		t.Errorf("SMS preview: %q", seg)
	}
	shoot(t, b, "templates")
	// The organisation's own Italian SMS: written on the page, saved, previewed.
	get(t, b, "write the Italian SMS", chromedp.Evaluate[bool](`(s => { s.value = "language"; return s.dispatchEvent(new Event("change", {bubbles: true})) })(document.querySelector("select[name=scope]"))`))
	waitFor(t, b, "the Italian text's form", `location.search.includes("scope=language") && document.querySelector("#edit-heading") && document.querySelector("#edit-heading").textContent.includes("Text in it")`)
	get(t, b, "save the Italian SMS", chromedp.Evaluate[bool](`(t => { t.value = "{{.Company}}: ciao {{.Name}}, il tuo telefono: {{.Link}}"; t.form.querySelector("button[value=save]").click(); return true })(document.querySelector("textarea[name=text]"))`))
	waitFor(t, b, "the saved Italian SMS previewed", `location.search.includes("flash=saved") && document.querySelector("#template-text").textContent.includes("il tuo telefono: http")`)
	if checkAccessibility {
		axetest.Check(t, b, "templates, saved")
	}
	// As a person does it: pick the option, which fires "change" (one step,
	// so nothing runs on a page that is already going away).
	get(t, b, "switch to e-mail", chromedp.Evaluate[bool](`(s => { s.value = "email"; return s.dispatchEvent(new Event("change", {bubbles: true})) })(document.querySelector("select[name=channel]"))`))
	waitFor(t, b, "the e-mail preview", `location.search.includes("channel=email") && !document.querySelector("#sms-segments")`)
	run(t, b, "gateways", chromedp.Navigate(ts.url+"/console/gateways"), chromedp.WaitVisible(chromedp.CSS("#gateways")))

	// Every other page of the route table, so each has its screenshot and
	// its phone layout checked.
	msgs, err := ts.app.Domain.Messages.List(ctx, "", "", 1, tester)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("a message for the outbox page: %v", err)
	}
	second, err := ts.app.Domain.Operators.Create(ctx, model.OperatorInput{Name: strp("grace"), Role: new(model.RoleCSR)}, tester)
	if err != nil {
		t.Fatal(err)
	}
	ims, err := ts.app.Domain.Imports.List(ctx, tester)
	if err != nil || len(ims) == 0 {
		t.Fatalf("an import for its page: %v", err)
	}
	fill := strings.NewReplacer("{username}", username, "{id}", "", "{name}", "default", "{$}", "")
	cons, err := console.New(ts.app.Domain, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cons.Routes() {
		name, page := pageShots[r.Path]
		if r.Method != "GET" || !page || shot[name] {
			continue
		}
		path := fill.Replace(r.Path)
		switch r.Path {
		case "/console/outbox/{id}":
			path += strconv.FormatInt(msgs[0].ID, 10)
		case "/console/imports/{id}":
			path += strconv.FormatInt(ims[0].ID, 10)
		case "/console/set-password/{token}":
			path = strings.TrimPrefix(second.SetPasswordURL, ts.url)
		}
		run(t, b, name, chromedp.Navigate(ts.url+path), chromedp.WaitVisible(chromedp.CSS("main")))
		shoot(t, b, name)
	}
	for path, name := range pageShots {
		if !shot[name] {
			t.Errorf("no screenshot was taken of %s (%s)", path, name)
		}
	}
}

// menuLayout is how the top menu is laid out.
type menuLayout struct {
	Rows     int     `json:"rows"`     // lines its entries take
	Overflow bool    `json:"overflow"` // some of it is cut off, to scroll to
	Right    float64 `json:"right"`    // the right edge of its rightmost entry
	Width    float64 `json:"width"`    // the viewport's
	Shortest float64 `json:"shortest"` // the height of its least tall entry
	Unseen   int     `json:"unseen"`   // entries not on the screen, or covered: a tap at their middle lands elsewhere
	Tallest  float64 `json:"tallest"`  // the height of its tallest entry
	Nav      float64 `json:"nav"`      // the height of the nav holding the entries
	Header   float64 `json:"header"`   // the height of the bar holding the nav, the console's name and the operator's
	// PageWidth is the width of the page's content: more than the
	// viewport's when it scrolls sideways.
	PageWidth float64 `json:"pageWidth"`
}

const menuJS = `(() => {
  const nav = document.querySelector("header.top nav"), es = [...document.querySelectorAll(%q)];
  const rs = es.map(e => e.getBoundingClientRect());
  const seen = (e, r) => { const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return at !== null && e.contains(at); };
  return {rows: new Set(rs.map(r => Math.round(r.top))).size, overflow: nav.scrollWidth > nav.clientWidth + 1,
    right: Math.max(...rs.map(r => r.right)), width: window.innerWidth, shortest: Math.min(...rs.map(r => r.height)),
    unseen: es.filter((e, i) => !seen(e, rs[i])).length, tallest: Math.max(...rs.map(r => r.height)),
    nav: nav.getBoundingClientRect().height, pageWidth: document.documentElement.scrollWidth,
    header: document.querySelector("header.top").getBoundingClientRect().height};
})()`

// checkMenu checks the console's top menu at a desktop's width (1280px),
// where it takes one line, the nav no taller than its tallest entry and
// the bar holding it, the operator's name and Log out included, one line, and
// on a phone's (360px), where nothing of it is cut off, nothing of the
// page scrolls sideways, every entry is a tap target at least 44px tall,
// and the Setup menu opens with every entry on the screen, where a tap
// lands on it.
func checkMenu(t *testing.T, ctx context.Context, width int64) {
	t.Helper()
	phone := width < 640
	vp := chromedp.EmulateViewport(width, 900, chromedp.EmulateScale(1))
	if phone {
		vp = chromedp.EmulateViewport(width, 800, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	run(t, ctx, "viewport", vp, chromedp.Sleep(100*time.Millisecond))
	defer run(t, ctx, "back to desktop", viewport(false))
	top := get(t, ctx, "the menu's layout", chromedp.Evaluate[menuLayout](fmt.Sprintf(menuJS, "header.top nav > a, header.top .menu > summary")))
	where := fmt.Sprintf("at %dpx", width)
	if top.Overflow || top.Right > top.Width || top.Unseen > 0 {
		t.Errorf("%s the menu is cut off: %+v", where, top)
	}
	// The bar's padding is .25rem above and below.
	if !phone && (top.Rows != 1 || top.Nav > top.Tallest+1 || top.Header > top.Tallest+8+1) {
		t.Errorf("%s the menu wraps: its entries take %d lines, the nav is %.0fpx tall and the bar %.0fpx for entries of %.0fpx", where, top.Rows, top.Nav, top.Header, top.Tallest)
	}
	if phone && top.PageWidth > top.Width {
		t.Errorf("%s the page is %.0fpx wide: it scrolls sideways", where, top.PageWidth)
	}
	if phone && top.Shortest < 44 {
		t.Errorf("on a phone a menu entry is %.0fpx tall, want at least 44px to tap", top.Shortest)
	}
	run(t, ctx, "open Setup", chromedp.Click(chromedp.CSS("#setup-menu summary")))
	setup := get(t, ctx, "the Setup menu's layout", chromedp.Evaluate[menuLayout](fmt.Sprintf(menuJS, "#setup-menu .menu-list a")))
	if setup.Right > setup.Width || setup.Shortest < 40 || setup.Unseen > 0 {
		t.Errorf("%s the open Setup menu does not fit the screen: %+v", where, setup)
	}
	// A tap elsewhere closes it (on the page's heading: on a phone the open
	// menu covers the heading's place on the screen, so the tap is the element's).
	if open := get(t, ctx, "the Setup menu's state", chromedp.Evaluate[bool](`document.querySelector("main h1").click(), document.querySelector("#setup-menu").open`)); open {
		t.Errorf("%s a tap outside the open Setup menu leaves it open", where)
	}
}

func countAccounts(t *testing.T, ts *consoleServer) int {
	t.Helper()
	as, err := ts.app.Domain.Accounts.List(context.Background(), "", "", "", 1000, 0, tester)
	if err != nil {
		t.Fatal(err)
	}
	return len(as)
}
