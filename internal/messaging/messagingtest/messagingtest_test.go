package messagingtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/messagingtest"
	"github.com/activator-voip/activator/internal/model"
)

// recorder is a test that keeps its failures and its cleanups, so that
// what the harness does to a test can be checked.
type recorder struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Cleanup(f func())             { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(f string, args ...any) { r.errs = append(r.errs, fmt.Sprintf(f, args...)) }
func (r *recorder) Fatalf(f string, args ...any) {
	r.Errorf(f, args...)
	runtime.Goexit()
}

// end runs the cleanups, last registered first, as the testing package does.
func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// A breach of the contract is answered at once but fails the test only
// when it ends, after the server is closed: an adapter's test still sees
// the answer its provider would give.
func TestBadFailsTheTestWhenItEnds(t *testing.T) {
	rec := &recorder{TB: t}
	var s messagingtest.StandIn[string]
	base := s.Start(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" {
			s.Bad(w, "unexpected %s", r.URL.Path)
			return
		}
		s.Accept(r.URL.Path)
	}))
	for _, path := range []string{"/ok", "/nope"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/nope" && (resp.StatusCode != 400 || !strings.Contains(string(body), "unexpected /nope")) {
			t.Errorf("a breach without Refuse: want 400 saying what was wrong, got %d %q", resp.StatusCode, body)
		}
	}
	if got := s.Requests(); got != 2 {
		t.Errorf("Requests: %d, want 2", got)
	}
	if got := s.Accepted(); len(got) != 1 || got[0] != "/ok" {
		t.Errorf("Accepted: %q, want only /ok", got)
	}
	if len(rec.errs) > 0 {
		t.Fatalf("the test failed before it ended: %q", rec.errs)
	}
	rec.end()
	if len(rec.errs) != 1 || rec.errs[0] != "stand-in refused the request: unexpected /nope" {
		t.Errorf("at the end: %q, want the one breach", rec.errs)
	}
	if _, err := http.Get(base + "/ok"); err == nil {
		t.Error("the stand-in still answers after the test ended")
	}
}

func TestRefuseAnswersAsTheProvider(t *testing.T) {
	var s messagingtest.StandIn[any]
	s.Refuse = func(w http.ResponseWriter, msg string) { fmt.Fprintf(w, `{"status":"2","error-text":%q}`, msg) }
	rec := &recorder{TB: t}
	base := s.Start(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.Bad(w, "no %s", "text") }))
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"status":"2","error-text":"no text"}` {
		t.Errorf("answer %d %q", resp.StatusCode, body)
	}
	rec.end()
	if len(rec.errs) != 1 {
		t.Errorf("failures: %q, want one", rec.errs)
	}
}

// fake is a gateway kind with a required key and a default; its gateway
// keeps the settings it was built with and the context of its last send.
var fake = messaging.Kind{
	Name: "fake", Channel: model.ChannelSMS,
	Keys: []model.GatewayKey{{Key: "token", Required: true, Secret: true}, {Key: "region", Default: "eu"}},
	New: func(name string, s map[string]string, o messaging.Options) (messaging.Gateway, error) {
		if s["token"] == "unbuildable" {
			return nil, fmt.Errorf("fake: cannot build")
		}
		return &fakeGateway{name: name, settings: s}, nil
	},
}

type fakeGateway struct {
	name     string
	settings map[string]string
	deadline time.Time
}

func (g *fakeGateway) Name() string { return g.name }
func (g *fakeGateway) Send(ctx context.Context, m *model.Message) (string, error) {
	g.deadline, _ = ctx.Deadline()
	return "id-1", nil
}

// build runs Build in a goroutine of its own, since a refusal ends it.
func build(rec *recorder, settings map[string]string) messaging.Gateway {
	var g messaging.Gateway
	done := make(chan struct{})
	go func() {
		defer close(done)
		g = messagingtest.Build(rec, fake, settings, messaging.Options{})
	}()
	<-done
	return g
}

func TestBuildValidatesAndFillsDefaults(t *testing.T) {
	rec := &recorder{TB: t}
	g := build(rec, map[string]string{"token": "t0k"})
	if len(rec.errs) > 0 {
		t.Fatalf("good settings refused: %q", rec.errs)
	}
	if fg := g.(*fakeGateway); fg.name != "fake" || fg.settings["region"] != "eu" || fg.settings["token"] != "t0k" {
		t.Fatalf("built %q with %v; want it named after its kind, with the defaults filled in", fg.name, fg.settings)
	}
	for _, tc := range []struct {
		settings map[string]string
		says     string
	}{
		{map[string]string{}, "fake settings refused: token: required"},
		{map[string]string{"token": "t0k", "colour": "red"}, "fake settings refused: colour: unknown setting"},
		{map[string]string{"token": "unbuildable"}, "building a fake gateway: fake: cannot build"},
	} {
		rec := &recorder{TB: t}
		if g := build(rec, tc.settings); g != nil || len(rec.errs) != 1 || !strings.HasPrefix(rec.errs[0], tc.says) {
			t.Errorf("%v: want the test failed with %q, got %v %q", tc.settings, tc.says, g, rec.errs)
		}
	}
}

func TestSendIsBounded(t *testing.T) {
	g := &fakeGateway{}
	if id, err := messagingtest.Send(t, g, &model.Message{ID: 1}); id != "id-1" || err != nil {
		t.Fatalf("send: %q %v", id, err)
	}
	if latest := time.Now().Add(10 * time.Second); g.deadline.IsZero() || g.deadline.After(latest) {
		t.Fatalf("the send's deadline %v is not within 10 s", g.deadline)
	}
}

// The harness is for tests: a server or command importing it would carry
// net/http/httptest and the testing package. Test files may.
func TestOnlyTestsImportIt(t *testing.T) {
	const mod = "github.com/activator-voip/activator"
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the imports with")
	}
	out, err := exec.Command(goTool, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == mod+"/internal/messaging/messagingtest" {
				t.Errorf("%s imports messagingtest outside its tests", f[0])
			}
		}
	}
}
