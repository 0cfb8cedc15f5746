package cli

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/messaging/twilio"
	"github.com/activator-voip/activator/internal/model"
)

// liveServer runs a whole activator in the test process and returns the
// command line's environment for it.
func liveServer(t *testing.T, log io.Writer) (env map[string]string, base string) {
	t.Helper()
	s := apptest.Start(t, apptest.Options{Logger: slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return map[string]string{envURL: s.URL, envTokenFile: s.TokenFile()}, s.URL
}

// twilioProvider accepts messages as Twilio does and keeps their forms.
type twilioProvider struct {
	mu    sync.Mutex
	forms []url.Values
}

func (p *twilioProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, pw, _ := r.BasicAuth(); u != "AC1" || pw != "tok-very-secret" {
		w.WriteHeader(401)
		io.WriteString(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	r.ParseForm()
	p.mu.Lock()
	p.forms = append(p.forms, r.PostForm)
	p.mu.Unlock()
	w.WriteHeader(201)
	io.WriteString(w, `{"sid":"SM00000000000000000000000000000001","status":"queued"}`)
}

func (p *twilioProvider) last() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.forms) == 0 {
		return nil
	}
	return p.forms[len(p.forms)-1]
}

func mustRun(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	r := runCLI(t, env, "", args...)
	if r.err != nil {
		t.Fatalf("activator %s: %v\n%s", strings.Join(args, " "), r.err, r.all())
	}
	return r.stdout
}

// The gateway commands against a real server: configure, list, show
// (masked), test, route a group, send through it, receive its receipt.
func TestGatewayCommandsEndToEnd(t *testing.T) {
	var log syncBuffer
	env, base := liveServer(t, &log)
	prov := &twilioProvider{}
	ps := httptest.NewServer(prov)
	defer ps.Close()

	out := mustRun(t, env, "gateway", "kinds")
	for _, want := range []string{"smtp", "gmail", "aspsms", "orange", "clickatell", "vonage (alias nexmo)", "twilio", "auth_token", "required, secret"} {
		if !strings.Contains(out, want) {
			t.Errorf("gateway kinds does not show %q:\n%s", want, out)
		}
	}
	out = mustRun(t, env, "gateway", "add", "sms", "--kind", "twilio", "--default-for", "sms",
		"--set", "account_sid=AC1", "--set", "auth_token=tok-very-secret", "--set", "from=+15005550006", "--set", "base_url="+ps.URL)
	if strings.Contains(out, "tok-very-secret") || !strings.Contains(out, "********") {
		t.Fatalf("gateway add printed the secret or did not mask it:\n%s", out)
	}
	r := runCLI(t, env, "", "gateway", "add", "bad", "--kind", "twilio", "--set", "account_sid=AC1")
	if r.err == nil || !strings.Contains(r.all(), "settings.auth_token") {
		t.Fatalf("a missing key must be named:\n%s", r.all())
	}
	out = mustRun(t, env, "gateway", "list")
	if !strings.Contains(out, "sms") || !strings.Contains(out, "twilio") || !strings.Contains(out, "outbox") {
		t.Fatalf("gateway list:\n%s", out)
	}
	out = mustRun(t, env, "gateway", "show", "sms", "-o", "json")
	var g model.Gateway
	if err := json.Unmarshal([]byte(out), &g); err != nil || g.Settings["auth_token"] != "********" || g.DefaultFor != "sms" || g.ReceiptURL == "" {
		t.Fatalf("gateway show -o json: %v\n%s", err, out)
	}

	out = mustRun(t, env, "gateway", "test", "sms", "--to", "+393331234567")
	if !strings.Contains(out, "accepted by the provider") || !strings.Contains(out, "SM00000000000000000000000000000001") || prov.last().Get("To") != "+393331234567" {
		t.Fatalf("gateway test:\n%s\n%v", out, prov.last())
	}
	mustRun(t, env, "gateway", "edit", "sms", "--set", "auth_token=wrong")
	r = runCLI(t, env, "", "gateway", "test", "sms", "--to", "+393331234567")
	if r.err == nil || !strings.Contains(r.stdout, "permanent") || !strings.Contains(r.stdout, "bad credentials") {
		t.Fatalf("a refused test must say why and fail:\n%s", r.all())
	}
	mustRun(t, env, "gateway", "edit", "sms", "--set", "auth_token=tok-very-secret")

	// Route a group through a second gateway, then send one message with --gateway.
	mustRun(t, env, "group", "create", "sales")
	mustRun(t, env, "gateway", "add", "sms-eu", "--kind", "nexmo", "--set", "api_key=k", "--set", "api_secret=vonage-secret-xyz", "--set", "from=ACME", "--set", "base_url="+ps.URL)
	mustRun(t, env, "gateway", "assign", "sms-eu", "--group", "sales")
	out = mustRun(t, env, "gateway", "show", "sms-eu")
	if !strings.Contains(out, "sales") || !strings.Contains(out, "vonage") {
		t.Fatalf("gateway show after assign:\n%s", out)
	}
	r = runCLI(t, env, "", "gateway", "delete", "sms-eu")
	if r.err == nil || !strings.Contains(r.all(), "unassign") {
		t.Fatalf("deleting a group's gateway must be refused with the way out:\n%s", r.all())
	}
	var acc model.Account
	out = mustRun(t, env, "account", "create", "--group", "sales", "--name", "Ada", "--mobile", "+393331234567", "-o", "json")
	json.Unmarshal([]byte(out), &acc)
	var res model.SendResult
	out = mustRun(t, env, "account", "send", acc.Username, "--channel", "sms", "-o", "json")
	json.Unmarshal([]byte(out), &res)
	if res.Message.Gateway != "sms-eu" {
		t.Fatalf("the group's gateway was not used: %+v", res.Message)
	}
	out = mustRun(t, env, "account", "send", acc.Username, "--channel", "sms", "--gateway", "sms")
	if !strings.Contains(out, "gateway:") || !strings.Contains(out, " sms\n") || !strings.Contains(out, "sms segments:") {
		t.Fatalf("account send --gateway:\n%s", out)
	}
	mustRun(t, env, "gateway", "unassign", "--group", "sales", "--channel", "sms")
	mustRun(t, env, "gateway", "delete", "sms-eu")

	// The message through sms goes out; its status callback, signed as
	// Twilio signs, makes it delivered.
	deadline := time.Now().Add(10 * time.Second)
	for prov.last().Get("StatusCallback") == "" {
		if time.Now().After(deadline) {
			t.Fatal("the message never reached the provider")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cb := prov.last().Get("StatusCallback")
	if !strings.HasPrefix(cb, base+"/api/v1/receipts/sms/avr_") {
		t.Fatalf("StatusCallback %q", cb)
	}
	var msgs struct {
		Messages []model.Message `json:"messages"`
	}
	for {
		json.Unmarshal([]byte(mustRun(t, env, "messages", "list", "--state", "sent", "-o", "json")), &msgs)
		if len(msgs.Messages) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(msgs.Messages) != 1 {
		t.Fatalf("want one sent message: %+v", msgs)
	}
	form := url.Values{"MessageSid": {msgs.Messages[0].ProviderID}, "MessageStatus": {"delivered"}, "To": {"+393331234567"}}
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", cb, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("forged"); code != 403 {
		t.Fatalf("a forged signature got HTTP %d, want 403", code)
	}
	if code := post(twilio.Signature("tok-very-secret", cb, form)); code != 204 {
		t.Fatalf("a signed receipt got HTTP %d, want 204", code)
	}
	json.Unmarshal([]byte(mustRun(t, env, "messages", "list", "--state", "delivered", "-o", "json")), &msgs)
	if len(msgs.Messages) != 1 || msgs.Messages[0].DeliveredAt == nil {
		t.Fatalf("want one delivered message: %+v", msgs)
	}

	// No credential and no receipt key reached the log, which did record the work.
	logged := log.String()
	key := cb[strings.LastIndex(cb, "/")+1:]
	key = key[:strings.Index(key, "?")]
	for _, secret := range []string{"tok-very-secret", "vonage-secret-xyz", key} {
		if strings.Contains(logged, secret) {
			t.Errorf("the server log holds %q", secret)
		}
	}
	if !strings.Contains(logged, "gateway configured") || !strings.Contains(logged, "delivery receipt") || !strings.Contains(logged, "gateway test failed") {
		t.Errorf("the log does not show the gateway work:\n%s", logged)
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
