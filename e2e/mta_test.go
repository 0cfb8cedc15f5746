package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/i18n"
	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/messaging/smtp/smtptest"
	"github.com/activator-voip/activator/internal/model"
)

// eximConfig is a whole Exim configuration for one test: it listens on one
// loopback port, accepts mail for example.org only, and delivers it to one
// Maildir, with its spool and logs beside it. It looks nothing up (no DNS,
// no ident) and, like Exim's defaults, offers STARTTLS and refuses lines
// over 998 octets (message_linelength_limit).
const eximConfig = `# Exim for activator's end-to-end e-mail test (e2e/mta_test.go).
primary_hostname = mta.test
qualify_domain = example.org
domainlist local_domains = example.org
spool_directory = {{dir}}/spool
log_file_path = {{dir}}/log/%slog
pid_file_path = {{dir}}/exim.pid
daemon_smtp_ports = {{port}}
local_interfaces = <; 127.0.0.1
daemon_startup_retries = 0
host_lookup =
rfc1413_hosts =
keep_environment =
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept domains = +local_domains
  deny   message = relay not permitted

begin routers
maildir:
  driver = accept
  domains = +local_domains
  transport = maildir

begin transports
maildir:
  driver = appendfile
  directory = {{dir}}/Maildir
  maildir_format
  create_directory
  user = {{uid}}
  group = {{gid}}
  delivery_date_add
  envelope_to_add
  return_path_add
`

// mta is one running Exim daemon.
type mta struct {
	port    int
	dir     string
	exited  chan struct{}
	waitErr error
	proc    *os.Process
}

// findExim returns Debian's exim4 (or an exim), also where /usr/sbin is not
// on PATH; it skips the test, or fails it under CI=true, when there is none.
func findExim(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"exim4", "exim", "/usr/sbin/exim4", "/usr/sbin/exim"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("exim4 is not installed (CI installs exim4-daemon-light in .ci/run)")
	}
	t.Skip("exim4 is not installed (apt-get install exim4-daemon-light)")
	return ""
}

// startMTA runs Exim as a foreground daemon on a free loopback port with
// its own configuration, spool, log and Maildir in a temporary folder.
// Given a configuration of its own (-C), Exim gives up root; run by root,
// the test starts it as Exim's own user (Debian-exim), with no supplementary
// group, since Exim never delivers as root. Run by anyone else, Exim runs
// as that user, if it lets that user start a daemon at all.
func startMTA(t *testing.T) *mta {
	t.Helper()
	bin := findExim(t)
	dir := t.TempDir()
	uid, gid := os.Getuid(), os.Getgid()
	var cred *syscall.Credential
	if uid == 0 {
		name := "Debian-exim"
		if out, err := exec.Command(bin, "-bP", "exim_user").Output(); err == nil {
			if _, v, ok := strings.Cut(string(out), "="); ok {
				name = strings.TrimSpace(v)
			}
		}
		u, err := user.Lookup(name)
		if err != nil {
			t.Fatalf("finding Exim's own user %s to run it as: %v", name, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)} // and no supplementary groups
		// That user must reach the folder: t.TempDir's parent is 0700.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, sub := range []string{"spool", "log"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(dir, sub), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil { // Exim creates the Maildir here
		t.Fatal(err)
	}
	var lastErr error
	// Exim must be told its port up front: one nobody held a moment ago, and
	// when another process binds it first, Exim exits on "Address already in
	// use" and starts again on another.
	for attempt := 1; attempt <= mtaAttempts; attempt++ {
		port := unusedTCPPort(t)
		conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", strconv.Itoa(port), "{{uid}}", strconv.Itoa(uid), "{{gid}}", strconv.Itoa(gid)).Replace(eximConfig)
		confPath := filepath.Join(dir, "exim.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := tryStartMTA(t, bin, confPath, dir, port, cred)
		if err == nil {
			return m
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
		t.Logf("exim on port %d: %v; again on another port", port, err)
	}
	if os.Getuid() != 0 && os.Getenv("CI") != "true" {
		// Exim starts a daemon only for root, its own user and its admin group.
		t.Skipf("starting Exim as uid %d (run the test as root, which starts Exim as its own user): %v", os.Getuid(), lastErr)
	}
	t.Fatalf("starting Exim: %v", lastErr)
	return nil
}

func tryStartMTA(t *testing.T, bin, confPath, dir string, port int, cred *syscall.Credential) (*mta, error) {
	t.Helper()
	// -bdf: a daemon in the foreground, so the test holds its process.
	cmd := exec.Command(bin, "-C", confPath, "-bdf")
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s -C %s -bdf: %w", bin, confPath, err)
	}
	m := &mta{port: port, dir: dir, exited: make(chan struct{}), proc: cmd.Process}
	go func() {
		m.waitErr = cmd.Wait()
		close(m.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-m.exited:
		default:
			_ = m.proc.Signal(syscall.SIGTERM)
			select {
			case <-m.exited:
			case <-time.After(stopTimeout):
				_ = m.proc.Kill()
				<-m.exited
			}
		}
	})
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-m.exited:
			if strings.Contains(out.String()+m.logs(), "Address already in use") {
				return nil, fmt.Errorf("%w: %s", errPortTaken, out.String())
			}
			return nil, fmt.Errorf("exim exited before listening (%v): %s\n%s", m.waitErr, out.String(), m.logs())
		default:
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
			c.Close()
			return m, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("exim did not listen on port %d within %v:\n%s", port, startTimeout, m.logs())
}

// logs is what Exim wrote to its main, reject and panic logs.
func (m *mta) logs() string {
	var b strings.Builder
	for _, name := range []string{"mainlog", "rejectlog", "paniclog"} {
		if data, err := os.ReadFile(filepath.Join(m.dir, "log", name)); err == nil {
			fmt.Fprintf(&b, "--- %s\n%s", name, data)
		}
	}
	return b.String()
}

// delivered waits for the Maildir to hold n messages and returns them.
func (m *mta) delivered(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(sendTimeout)
	for {
		files, _ := filepath.Glob(filepath.Join(m.dir, "Maildir", "new", "*"))
		if len(files) >= n {
			var out [][]byte
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, b)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Maildir holds %d messages after %v, want %d:\n%s", len(files), sendTimeout, n, m.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestActivationEmailThroughExim sends an activation e-mail from a whole
// activator server, through an smtp gateway configured as an operator
// would (tls=none), to Debian's Exim on loopback, and reads the file Exim
// delivered to its Maildir with both strict parsers of smtptest. Exim
// offers STARTTLS, which tls=none must not take.
func TestActivationEmailThroughExim(t *testing.T) {
	mt := startMTA(t)
	bin := buildBinary(t, t.TempDir())
	srv := startServe(t, bin, serveOptions{})
	c := newCLI(t, bin, srv)

	const (
		company = "Compagnie Générale d'Électricité"
		from    = "Service informatique – " + company + " <it@example.com>"
		name    = "Zoë Lovelace"
		email   = "zoe@example.org"
	)
	c.ok(t, "gateway", "add", "mail", "--kind", "smtp", "--default-for", "email",
		"--set", "host=127.0.0.1", "--set", "port="+strconv.Itoa(mt.port), "--set", "tls=none", "--set", "from="+from)
	c.ok(t, "settings", "set", model.SettingCompanyName, company)
	c.ok(t, "group", "create", "field", "--it-email", "it@example.com")
	var acc model.Account
	c.json(t, &acc, "account", "create", "--group", "field", "--name", name, "--email", email, "--language", "fr")
	var sent model.SendResult
	c.json(t, &sent, "account", "send", acc.Username, "--channel", "email")
	waitSent(t, c, sent.Message.ID)

	raw := mt.delivered(t, 1)[0]
	m := regexp.MustCompile(`https?://[^\s"<>=]+/a/avl_[a-z2-7]{32}`).Find(raw)
	if m == nil {
		t.Fatalf("no secure link in the delivered message:\n%s", raw)
	}
	link := string(m)
	if !strings.HasPrefix(link, srv.url+"/a/") {
		t.Fatalf("the link %s is not on %s", link, srv.url)
	}
	// What the server must have rendered for this account and link.
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := messaging.NewTemplates(cat)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tm.Render("fr", model.ChannelEmail, model.LinkActivation, messaging.MessageVars{
		Name: name, Link: link, Company: company, ITEmail: "it@example.com", ExpiresAt: sent.Link.ExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	smtptest.Check(t, raw, smtptest.Expect{From: "it@example.com", To: email, Subject: want.Subject, Text: want.Text,
		HTML: []string{link}, QR: true, Mailbox: true})

	// Exim's own record: the message it took in is the one the server sent,
	// over plain SMTP (P=esmtp or utf8esmtp, not esmtps, and no X= cipher)
	// although STARTTLS was offered.
	var ml messageList
	c.json(t, &ml, "messages", "list")
	i := slices.IndexFunc(ml.Messages, func(x model.Message) bool { return x.ID == sent.Message.ID })
	if i < 0 || ml.Messages[i].ProviderID == "" {
		t.Fatalf("message %d has no provider id: %+v", sent.Message.ID, ml.Messages)
	}
	id := strings.Trim(ml.Messages[i].ProviderID, "<>")
	var arrival string
	for _, line := range strings.Split(mt.logs(), "\n") {
		if strings.Contains(line, " <= ") && strings.Contains(line, " id="+id) {
			arrival = line
		}
	}
	switch {
	case arrival == "":
		t.Errorf("Exim's log has no arrival of Message-ID %s:\n%s", id, mt.logs())
	case !regexp.MustCompile(` P=(utf8)?esmtp `).MatchString(arrival) || strings.Contains(arrival, " X="):
		t.Errorf("the message reached Exim over TLS, though the gateway says tls=none: %s", arrival)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	waitCompleted(ctx, t, mt)
	srv.stop(t)
}

// waitCompleted waits until Exim has logged the delivery as completed, so
// that stopping it ends no delivery midway.
func waitCompleted(ctx context.Context, t *testing.T, mt *mta) {
	t.Helper()
	for !strings.Contains(mt.logs(), " Completed") {
		select {
		case <-ctx.Done():
			t.Fatalf("Exim did not log the delivery as completed:\n%s", mt.logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
