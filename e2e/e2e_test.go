// Package e2e_test drives a real activator: it builds the binary, runs
// `activator serve` as a process and walks the Core bar through the command
// line and plain HTTP, as an operator, a browser and a device would.
package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// Values the scenario sets and then expects back.
const (
	groupName       = "sales"
	profileName     = "field-staff"
	androidE2EURL   = "https://play.example.com/store/apps/details?id=com.example.voip.e2e"
	androidURL      = "https://play.example.com/store/apps/details?id=com.example.voip"
	iosURL          = "https://apps.example.com/app/voip/id1234567890"
	supportEmail    = "help@example.com"
	nationalMobile  = "333 123 4567"
	e164Mobile      = "+393331234567"
	androidChromeUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
	sendTimeout     = 10 * time.Second
)

// unknownToken is well formed (avl_ and 32 base32 characters) but was never issued.
const unknownToken = "avl_abcdefghijklmnopqrstuvwxyz234567"

// linkRE finds a secure link in a message body.
var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/a/(avl_[a-z2-7]{32})`)

// The JSON bodies of the list and revoke answers.
type (
	accountList struct {
		Accounts []model.Account `json:"accounts"`
	}
	messageList struct {
		Messages []model.Message `json:"messages"`
	}
	outboxList struct {
		Outbox []model.OutboxItem `json:"outbox"`
	}
	revokeCount struct {
		Revoked int `json:"revoked"`
	}
)

// TestCoreBar runs the whole activation flow on every database: SQLite
// always, PostgreSQL when ACTIVATOR_TEST_POSTGRES names a server.
func TestCoreBar(t *testing.T) {
	backends := storetest.Backends(t) // under CI=true, fails when PostgreSQL is missing
	bin := buildBinary(t, t.TempDir())
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			i := slices.IndexFunc(backends, func(b storetest.Backend) bool { return b.Name == name })
			if i < 0 {
				t.Skipf("%s: %s is not set; set it to a PostgreSQL URL to run this half", name, storetest.EnvPostgres)
			}
			database := ""
			if name != "sqlite" { // SQLite is the server's default: its file lives in the data folder
				database = backends[i].DSN(t)
			}
			start := time.Now()
			coreBar(t, bin, database)
			t.Logf("%s: scenario took %v", name, time.Since(start).Round(time.Millisecond))
		})
	}
}

func coreBar(t *testing.T, bin, database string) {
	srv := startServe(t, bin, serveOptions{database: database})
	c := newCLI(t, bin, srv)
	web := newBrowser(t)

	// 1. Configuration: group, profile, download URLs, settings.
	var g model.Group
	r := c.json(t, &g, "group", "create", groupName, "--it-email", "it@example.com")
	if g.Name != groupName || g.ITEmail != "it@example.com" {
		t.Fatalf("want group %s with IT e-mail it@example.com:\n%s", groupName, r)
	}
	var p model.Profile
	r = c.json(t, &p, "profile", "create", profileName)
	if p.Name != profileName || p.IsDefault {
		t.Fatalf("want a profile %s that is not the default:\n%s", profileName, r)
	}
	r = c.json(t, &p, "profile", "edit", profileName, "--set", "pin.forced=true", "--set", "customer_service_email="+supportEmail)
	if !p.Settings.PIN.Forced || p.Settings.CustomerServiceEmail != supportEmail {
		t.Fatalf("want pin.forced true and customer_service_email %s:\n%s", supportEmail, r)
	}
	r = c.json(t, &g, "group", "edit", groupName, "--profile", profileName)
	if g.Profile != profileName {
		t.Fatalf("want group %s on profile %s:\n%s", groupName, profileName, r)
	}
	for _, a := range []struct{ platform, model, url string }{
		{"android", string(model.EndToEnd), androidE2EURL},
		{"android", "", androidURL},
		{"ios", "", iosURL},
	} {
		args := []string{"app", "set", a.platform, a.url}
		if a.model != "" {
			args = append(args, "--security-model", a.model)
		}
		var got model.AppURL
		r := c.json(t, &got, args...)
		if got.Platform != a.platform || string(got.SecurityModel) != a.model || got.URL != a.url {
			t.Fatalf("want platform %q, model %q, URL %q:\n%s", a.platform, a.model, a.url, r)
		}
	}
	for _, s := range [][2]string{{model.SettingCompanyName, "Acme Secure"}, {model.SettingLinkExpiry, "72h"}} {
		var got model.Setting
		r := c.json(t, &got, "settings", "set", s[0], s[1])
		if got.Key != s[0] || got.Value != s[1] {
			t.Fatalf("want %s = %q:\n%s", s[0], s[1], r)
		}
	}

	// 2. An account from a national mobile number; a bad number is refused.
	var acc model.Account
	r = c.json(t, &acc, "account", "create", "--group", groupName, "--name", "Ada Lovelace", "--mobile", nationalMobile)
	user := acc.Username
	if !regexp.MustCompile(`^[0-9]{10}$`).MatchString(user) {
		t.Fatalf("want a 10-digit numeric username:\n%s", r)
	}
	if acc.Mobile != e164Mobile || acc.VirtualNumber == "" || acc.Status != model.StageNew || acc.SIPEnabled || acc.Group != groupName {
		t.Fatalf("want mobile %s, a virtual number, status new, sip_enabled false, group %s:\n%s", e164Mobile, groupName, r)
	}
	r = c.fails(t, "account", "create", "--group", groupName, "--name", "Bad Number", "--mobile", "12", "-o", "json")
	if !strings.Contains(r.stderr, "mobile") {
		t.Fatalf("want an error naming the field mobile:\n%s", r)
	}

	// 3. Send the link by SMS; the outbox gateway keeps it.
	var sent model.SendResult
	r = c.json(t, &sent, "account", "send", user, "--channel", "sms")
	if sent.Message.ID == 0 || sent.Message.Channel != model.ChannelSMS || sent.Message.Recipient != e164Mobile || sent.Link.TokenPrefix == "" {
		t.Fatalf("want a queued SMS to %s with a link:\n%s", e164Mobile, r)
	}
	if got := sent.Link.ExpiresAt.Sub(sent.Link.CreatedAt); got != 72*time.Hour {
		t.Fatalf("want the link to expire 72h after its creation (link_expiry), got %v:\n%s", got, r)
	}
	waitSent(t, c, sent.Message.ID)
	var outbox outboxList
	listed := c.json(t, &outbox, "outbox", "list")
	i := slices.IndexFunc(outbox.Outbox, func(it model.OutboxItem) bool { return it.MessageID == sent.Message.ID })
	if i < 0 {
		t.Fatalf("want message %d in the outbox:\n%s", sent.Message.ID, listed)
	}
	item := outbox.Outbox[i]
	if !strings.Contains(item.Body, sent.Link.TokenPrefix) {
		t.Fatalf("want the masked link %s in the listed body:\n%s", sent.Link.TokenPrefix, listed)
	}
	var full model.OutboxItem
	r = c.json(t, &full, "outbox", "show", strconv.FormatInt(item.ID, 10))
	m := linkRE.FindStringSubmatch(full.Body)
	if m == nil {
		t.Fatalf("want a secure link in the message:\n%s", r)
	}
	link, token := m[0], m[1]
	if !strings.Contains(full.Body, "Acme Secure") {
		t.Fatalf("want the company name in the message:\n%s", r)
	}
	if !strings.HasPrefix(link, srv.url+"/a/") || !strings.HasPrefix(token, strings.TrimSuffix(sent.Link.TokenPrefix, "…")) {
		t.Fatalf("want a link on %s starting with %s, got %s:\n%s", srv.url, sent.Link.TokenPrefix, link, r)
	}
	if strings.Contains(listed.stdout, token) {
		t.Fatalf("outbox list shows the full link token; links must be masked:\n%s", listed)
	}

	// 4. The pages: neither a view nor a download uses the link up.
	installAndroid := link + "/install?platform=android"
	for range 2 {
		resp, body := web.get(t, link, "User-Agent", androidChromeUA)
		wantStatus(t, resp, body, http.StatusOK, "text/html")
		ia, ii := strings.Index(body, installAndroid), strings.Index(body, link+"/install?platform=ios")
		act := strings.Index(body, link+"/activation")
		if !strings.Contains(body, "Acme Secure") {
			t.Fatalf("GET %s: want the company name on the page:\n%s", link, body)
		}
		if ia < 0 || ii < 0 || act < 0 || ia > ii || ia > act {
			t.Fatalf("GET %s (Android): want the Android install link first, then iOS's, and the activation link after it; positions android %d, ios %d, activation %d:\n%s",
				link, ia, ii, act, body)
		}
	}
	for range 2 {
		resp, body := web.get(t, link+"/activation")
		wantStatus(t, resp, body, http.StatusOK, "application/vnd.activator.activation+json")
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || !strings.HasSuffix(params["filename"], ".activation") {
			t.Fatalf("GET %s/activation: want Content-Disposition with a .activation file name, got %q (%v)",
				link, resp.Header.Get("Content-Disposition"), err)
		}
		if !json.Valid([]byte(body)) {
			t.Fatalf("GET %s/activation: want a JSON file, got:\n%s", link, body)
		}
	}
	resp, body := web.get(t, installAndroid, "User-Agent", androidChromeUA)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != androidE2EURL {
		t.Fatalf("GET %s: want 302 to %s (the end-to-end download), got %d to %q:\n%s",
			installAndroid, androidE2EURL, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	unknown := srv.url + "/a/" + unknownToken
	resp, body = web.get(t, unknown, "User-Agent", androidChromeUA)
	wantStatus(t, resp, body, http.StatusNotFound, "text/html")
	resp, body = web.get(t, unknown+"/activation", "Accept", "application/json")
	wantStatus(t, resp, body, http.StatusNotFound, "application/json")
	var eb model.ErrorBody
	if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error.Code != "link_unknown" {
		t.Fatalf("GET %s/activation (Accept: application/json): want error code link_unknown, got %v:\n%s", unknown, err, body)
	}

	// 5. The device activates from the link.
	devDir := filepath.Join(t.TempDir(), "device")
	c.ok(t, "device", "activate", link, "--dir", devDir, "--insecure")
	var cfg model.DeviceConfig
	readJSONFile(t, filepath.Join(devDir, "config.json"), &cfg)
	if cfg.Account.Username != user || cfg.Account.Password == "" || !cfg.Profile.PIN.Forced ||
		cfg.Profile.CustomerServiceEmail != supportEmail || cfg.Security.Model != model.EndToEnd {
		t.Fatalf("%s: want username %s, a password, pin.forced true, customer_service_email %s, security model end-to-end; got account %+v, profile pin %+v, customer_service_email %q, model %q",
			filepath.Join(devDir, "config.json"), user, supportEmail, redactedAccount(cfg.Account), cfg.Profile.PIN, cfg.Profile.CustomerServiceEmail, cfg.Security.Model)
	}
	sipPassword := cfg.Account.Password
	credential := strings.TrimSpace(readFile(t, filepath.Join(devDir, "credential")))
	var d model.AccountDetail
	r = c.json(t, &d, "account", "show", user)
	if d.Account.Status != model.StageActivated || !d.Account.SIPEnabled {
		t.Fatalf("after activation want status activated, sip_enabled true:\n%s", r)
	}

	// 6. The link is used up.
	r = c.fails(t, "device", "activate", link, "--dir", filepath.Join(t.TempDir(), "device2"), "--insecure")
	if !strings.Contains(r.stderr, "used") && !strings.Contains(r.stderr, "410") {
		t.Fatalf("a second activation: want an error saying the link was used (410):\n%s", r)
	}

	// 7. Re-provisioning picks up a profile change and keeps the password.
	c.json(t, &p, "profile", "edit", profileName, "--set", "keep_alive_seconds=45")
	r = c.ok(t, "device", "refresh", "--dir", devDir, "--insecure")
	var cfg2 model.DeviceConfig
	readJSONFile(t, filepath.Join(devDir, "config.json"), &cfg2)
	if cfg2.Profile.KeepAliveSeconds != 45 || cfg2.Account.Password != sipPassword {
		t.Fatalf("%s/config.json: want keep_alive_seconds 45 and the same password; got keep_alive_seconds %d, same password %v, after:\n%s",
			devDir, cfg2.Profile.KeepAliveSeconds, cfg2.Account.Password == sipPassword, r)
	}

	// 8. Revoked device access stops re-provisioning.
	var rc revokeCount
	r = c.json(t, &rc, "device-access", "revoke", user)
	if rc.Revoked != 1 {
		t.Fatalf("want one device revoked:\n%s", r)
	}
	r = c.fails(t, "device", "refresh", "--dir", devDir, "--insecure")
	if !strings.Contains(r.stderr, "401") && !strings.Contains(r.stderr, "credential") {
		t.Fatalf("device refresh after revoke: want a 401 credential error:\n%s", r)
	}

	// 9. The timeline tells the story, in order. The device's own fetch of
	// the activation file (step 5) is a third download.
	r = c.json(t, &d, "account", "show", user)
	want := []model.EventKind{
		model.EventCreated, model.EventMessageQueued, model.EventMessageSent,
		model.EventOpened, model.EventOpened, model.EventFileDownloaded, model.EventFileDownloaded,
		model.EventInstallClicked, model.EventFileDownloaded, model.EventActivated, model.EventRefreshed,
		model.EventDeviceRevoked,
	}
	var got []model.EventKind
	for _, e := range d.Events {
		got = append(got, e.Kind)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("timeline of %s:\nwant %v\ngot  %v\n%s", user, want, got, r)
	}
	for _, e := range d.Events {
		if e.Kind == model.EventOpened && e.Detail["platform"] != "android" {
			t.Fatalf("want every opened event to say platform android (from the User-Agent), got %v:\n%s", e.Detail, r)
		}
	}

	// The text listings too, for the secrets check at the end.
	for _, args := range [][]string{{"outbox", "list"}, {"account", "list"}, {"account", "show", user}, {"messages", "list"}} {
		c.ok(t, args...)
	}

	// 10. Operator actions, then deletion.
	r = c.json(t, &acc, "account", "disable", user)
	if acc.Status != model.StatusDisabled || acc.SIPEnabled {
		t.Fatalf("account disable: want status disabled, sip_enabled false:\n%s", r)
	}
	var accounts accountList
	r = c.json(t, &accounts, "account", "list", "--status", model.StatusDisabled)
	if !slices.ContainsFunc(accounts.Accounts, func(a model.Account) bool { return a.Username == user }) {
		t.Fatalf("want %s among the disabled accounts:\n%s", user, r)
	}
	r = c.json(t, &acc, "account", "enable", user)
	if acc.Status != model.StageActivated || !acc.SIPEnabled {
		t.Fatalf("account enable: want status activated again, sip_enabled true:\n%s", r)
	}
	c.json(t, &rc, "account", "revoke", user)
	r = c.ok(t, "account", "delete", user)
	if !strings.Contains(r.stdout, user) {
		t.Fatalf("account delete: want a confirmation naming %s:\n%s", user, r)
	}
	r = c.fails(t, "account", "show", user, "-o", "json")
	if low := strings.ToLower(r.stderr); !strings.Contains(low, "no account") && !strings.Contains(low, "not found") {
		t.Fatalf("account show after delete: want a not-found error:\n%s", r)
	}

	// 11. SIGTERM stops the server cleanly.
	srv.stop(t)

	// 12. No secret reaches the log or an operator's listing.
	adminToken := strings.TrimSpace(readFile(t, filepath.Join(srv.dataDir, "admin.token")))
	checkNoSecrets(t, srv, c, map[string]string{
		"link token":        token,
		"device credential": credential,
		"SIP password":      sipPassword,
		"admin token":       adminToken,
	})
}

// waitSent polls the delivery queue until message id is sent.
func waitSent(t *testing.T, c *cli, id int64) {
	t.Helper()
	deadline := time.Now().Add(sendTimeout)
	for {
		var ml messageList
		r := c.json(t, &ml, "messages", "list")
		i := slices.IndexFunc(ml.Messages, func(m model.Message) bool { return m.ID == id })
		if i >= 0 {
			switch ml.Messages[i].State {
			case model.MessageSent:
				return
			case model.MessageFailed:
				t.Fatalf("message %d failed:\n%s", id, r)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d not sent within %v:\n%s", id, sendTimeout, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkNoSecrets wants none of secrets in the server's log or in what the
// CLI printed, except `outbox show`, whose job is to show the link.
func checkNoSecrets(t *testing.T, srv *server, c *cli, secrets map[string]string) {
	t.Helper()
	for what, s := range secrets {
		if len(s) < 16 {
			t.Fatalf("the %s is %d characters long, too short to search for: the check would prove nothing", what, len(s))
		}
	}
	log := readFile(t, srv.logPath)
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if strings.TrimSpace(log) == "" {
		t.Fatalf("the server log %s is empty: the secrets check would pass vacuously", srv.logPath)
	}
	for n, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Errorf("server log line %d is not JSON (--log-format json): %s", n+1, line)
		}
	}
	for what, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the server log holds the %s", what)
		}
	}
	seen := map[string]bool{}
	for _, r := range c.transcript {
		if len(r.args) >= 2 && r.args[0] == "outbox" && r.args[1] == "show" {
			continue
		}
		if name, ok := listingName(r.args); ok {
			seen[name+outputMode(r.args)] = true
		}
		for what, s := range secrets {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("activator %s printed the %s", quoteArgs(r.args), what)
			}
		}
	}
	for _, name := range []string{"outbox list", "account list", "account show", "messages list"} {
		for _, mode := range []string{" -o json", " (text)"} {
			if !seen[name+mode] {
				t.Errorf("the secrets check saw no %s%s: the scenario must run it", name, mode)
			}
		}
	}
}

// listingName names the listing command args run, if it is one.
func listingName(args []string) (string, bool) {
	if len(args) < 2 {
		return "", false
	}
	switch name := args[0] + " " + args[1]; name {
	case "outbox list", "account list", "account show", "messages list":
		return name, true
	}
	return "", false
}

func outputMode(args []string) string {
	if i := slices.Index(args, "-o"); i >= 0 && i+1 < len(args) && args[i+1] == "json" {
		return " -o json"
	}
	return " (text)"
}

// browser fetches pages as a phone's browser would, never following redirects.
type browser struct{ hc *http.Client }

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return &browser{hc: &http.Client{
		Timeout:       commandTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// get fetches url with the given header pairs and returns the answer and its body.
func (b *browser) get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp, string(body)
}

// wantStatus checks an answer's status and media type.
func wantStatus(t *testing.T, resp *http.Response, body string, status int, mediaType string) {
	t.Helper()
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != status || mt != mediaType {
		t.Fatalf("GET %s: want %d %s, got %d %q:\n%s", resp.Request.URL, status, mediaType, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// redactedAccount is a device account fit for a failure message.
func redactedAccount(a model.DeviceAccount) model.DeviceAccount {
	if a.Password != "" {
		a.Password = "***"
	}
	return a
}
