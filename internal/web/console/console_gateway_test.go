package console_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/activator-voip/activator/internal/model"
)

// mailbox is a real SMTP server on loopback that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	rcpt []string
	data []string
}

type mailSession struct {
	box *mailbox
	to  string
}

func (s *mailSession) AuthMechanisms() []string                    { return nil }
func (s *mailSession) Mail(string, *gosmtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error { s.to = to; return nil }
func (s *mailSession) Reset()                                      {}
func (s *mailSession) Logout() error                               { return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.rcpt, s.box.data = append(s.box.rcpt, s.to), append(s.box.data, string(b))
	s.box.mu.Unlock()
	return nil
}

func startMailbox(t *testing.T) (*mailbox, int) {
	t.Helper()
	box := &mailbox{}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{box: box}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return box, ln.Addr().(*net.TCPAddr).Port
}

// TestGatewaysPageSendsATest lists a configured SMTP gateway and sends a
// test message through it to a real SMTP server on loopback.
func TestGatewaysPageSendsATest(t *testing.T) {
	ts := startConsole(t, "")
	dom := ts.app.Domain
	ctx := context.Background()
	box, port := startMailbox(t)
	name, kind := "mail", "smtp"
	if _, err := dom.Gateways.Create(ctx, model.GatewayInput{Name: &name, KindName: &kind, Settings: map[string]string{
		"host": "127.0.0.1", "port": strconv.Itoa(port), "tls": "none", "from": "it@example.com"}}, tester); err != nil {
		t.Fatal(err)
	}
	addOperator(t, dom, "ada", model.RoleAdmin)
	c := newClient(ts.url)
	c.login(t, "ada", "password of ada")
	_, page := c.get(t, "/console/gateways")
	if !strings.Contains(page, "<td>mail</td>") || !strings.Contains(page, "127.0.0.1") {
		t.Fatalf("the gateway is not listed")
	}
	code, page := c.post(t, "/console/gateways/mail/test", url.Values{"csrf": {c.csrf}, "to": {"ops@example.com"}})
	if code != http.StatusOK || !strings.Contains(page, `id="gateway-test"`) || !strings.Contains(page, "accepted") {
		t.Fatalf("send test: %d %.500s", code, page)
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.rcpt) != 1 || box.rcpt[0] != "ops@example.com" {
		t.Fatalf("the SMTP server received %v", box.rcpt)
	}
}
