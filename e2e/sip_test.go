package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// TestSIPBar drives the embedded registrar and proxy with real SIP software
// nobody on this project wrote: linphonec provisioned from its https URL
// only, two baresip accounts calling each other by virtual number over TLS,
// and sipp for the refusals.
func TestSIPBar(t *testing.T) {
	needTools(t, "linphonec", "baresip", "sipp")
	bin := buildBinary(t, t.TempDir())
	srv := startServe(t, bin, serveOptions{pki: newTestPKI(t), logLevel: "debug"})
	c := newCLI(t, bin, srv)
	srv.setUp(t, c)

	alice := newAccount(t, c, "Alice", "3001")
	bob := newAccount(t, c, "Bob", "3002")
	carol := newAccount(t, c, "Carol", "3003")
	dave := newAccount(t, c, "Dave", "3004") // never activated
	alice.activate(t, c)
	bob.activate(t, c)
	sipTarget := "127.0.0.1:" + strconv.Itoa(srv.udpPort)

	t.Run("refusals", func(t *testing.T) {
		if rc := sippRegister(t, sipTarget, "localhost", alice.username, alice.password); rc != 0 {
			t.Fatalf("alice with her password: sipp exit %d, want 0 (registered)", rc)
		}
		// The binding shows in the API, the CLI and the timeline.
		var d model.AccountDetail
		c.json(t, &d, "account", "show", alice.username)
		registered := false
		for _, e := range d.Events {
			registered = registered || (e.Kind == model.EventRegistered && e.Detail["transport"] == "udp")
		}
		if len(d.Registrations) != 1 || d.Registrations[0].Transport != "udp" || !strings.HasPrefix(d.Registrations[0].Contact, "sip:"+alice.username+"@127.0.0.1:") || !registered {
			t.Fatalf("after sipp's REGISTER: want one udp binding and a sip_registered event, got %+v / %+v", d.Registrations, d.Events)
		}
		if r := c.ok(t, "account", "show", alice.username); !strings.Contains(r.stdout, "sip registrations:") || !strings.Contains(r.stdout, d.Registrations[0].Contact) {
			t.Fatalf("account show does not list the registration:\n%s", r)
		}
		if rc := sippRegister(t, sipTarget, "localhost", alice.username, alice.password+"x"); rc != 1 {
			t.Errorf("wrong password: sipp exit %d, want 1 (refused)", rc)
		}
		if rc := sippRegister(t, sipTarget, "localhost", dave.username, "anything"); rc != 1 {
			t.Errorf("not-yet-activated account: sipp exit %d, want 1 (refused)", rc)
		}
		c.ok(t, "account", "disable", alice.username)
		var off model.AccountDetail
		c.json(t, &off, "account", "show", alice.username)
		if len(off.Registrations) != 0 {
			t.Errorf("a disabled account keeps its bindings (calls would still reach it): %+v", off.Registrations)
		}
		if rc := sippRegister(t, sipTarget, "localhost", alice.username, alice.password); rc != 1 {
			t.Errorf("disabled account: sipp exit %d, want 1 (refused)", rc)
		}
		c.ok(t, "account", "enable", alice.username)
		if rc := sippRegister(t, sipTarget, "localhost", alice.username, alice.password); rc != 0 {
			t.Errorf("enabled again: sipp exit %d, want 0", rc)
		}
	})

	t.Run("linphone", func(t *testing.T) {
		// The person's POST from the landing page reveals the provisioning URL.
		resp, err := srv.hc.Post(carol.link+"/linphone", "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		m := regexp.MustCompile(`href="linphone-config:(https://localhost:\d+/p/linphone/avd_[a-z2-7]{32})"`).FindStringSubmatch(body)
		if resp.StatusCode != 200 || m == nil {
			t.Fatalf("POST /linphone: %d, want 200 and a linphone-config link:\n%s", resp.StatusCode, body)
		}
		provURL := m[1]
		home := t.TempDir()
		if err := os.MkdirAll(filepath.Join(home, ".local/share/linphone"), 0o755); err != nil {
			t.Fatal(err)
		}
		// Port -1: linphonec binds each transport to a port the system
		// picks, so no other process can take it in between.
		rc := fmt.Sprintf("[sip]\nsip_port=-1\nsip_tcp_port=-1\nsip_tls_port=-1\nbind_address=127.0.0.1\nuse_ipv6=0\nroot_ca=%s\n[misc]\nconfig-uri=%s\n",
			srv.pki.caPath, provURL)
		rcPath := filepath.Join(home, "run.rc")
		if err := os.WriteFile(rcPath, []byte(rc), 0o600); err != nil {
			t.Fatal(err)
		}
		out := runLinphonec(t, home, rcPath)
		if !regexp.MustCompile(`sip:` + carol.username + `@localhost>?\s+\|\s+LinphoneRegistrationOk`).MatchString(out) {
			t.Fatalf("linphonec did not reach LinphoneRegistrationOk:\n%s\nlog:\n%s", out, tail(readFile(t, filepath.Join(home, "run.log")), 4000))
		}
		log := readFile(t, filepath.Join(home, "run.log"))
		if !strings.Contains(log, "transport=tls") || strings.Contains(log, "flags=[not-trusted]") {
			t.Errorf("want a TLS registration with the certificate verified")
		}
		var regs struct {
			Registrations []model.Registration `json:"registrations"`
		}
		getJSON(t, srv, "/api/v1/accounts/"+carol.username+"/registrations", &regs)
		if len(regs.Registrations) == 0 || regs.Registrations[0].Transport != "tls" {
			// linphonec unregisters when it quits; the timeline keeps the registration.
			var d model.AccountDetail
			c.json(t, &d, "account", "show", carol.username)
			found := false
			for _, e := range d.Events {
				found = found || (e.Kind == model.EventRegistered && e.Detail["transport"] == "tls")
			}
			if !found {
				t.Errorf("no TLS registration in carol's timeline: %+v", d.Events)
			}
		}
		// The URL was a device credential fetched once already: it keeps
		// serving re-provisioning, and it dies with the device's access.
		resp, err = srv.hc.Get(provURL)
		if err != nil {
			t.Fatal(err)
		}
		if b := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(b, `<entry name="ha1" overwrite="true">`) {
			t.Fatalf("re-provisioning: %d\n%s", resp.StatusCode, b)
		}
		c.ok(t, "device-access", "revoke", carol.username)
		resp, err = srv.hc.Get(provURL)
		if err != nil {
			t.Fatal(err)
		}
		if b := readBody(t, resp); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after revoking device access: %d, want 401\n%s", resp.StatusCode, b)
		}
	})

	t.Run("baresip call by virtual number", func(t *testing.T) {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server log:\n%s", tail(readFile(t, srv.logPath), 6000))
			}
		})
		bobOut := startBaresip(t, srv, bob, "")
		waitFor(t, bobOut, "bob registered", regexp.MustCompile(`\{0/TLS/v4\} 200 OK`), 15*time.Second)
		aliceOut := startBaresip(t, srv, alice, "/dial "+bob.number)
		waitFor(t, aliceOut, "call established on alice's side", regexp.MustCompile(`Call established`), 20*time.Second)
		waitFor(t, bobOut, "call established on bob's side", regexp.MustCompile(`Call established`), 10*time.Second)
		// bob's SIP trace (-s) shows the INVITE as it reached him: the
		// caller ID is alice's virtual number, never her username.
		if !regexp.MustCompile(`(?m)^From: "`+alice.number+`" <sip:`+alice.username+`@`).MatchString(bobOut.String()) ||
			!strings.Contains(bobOut.String(), "P-Asserted-Identity: <sip:"+alice.number+"@localhost>") {
			t.Errorf("bob's side does not show alice's virtual number %s as caller ID:\n%s", alice.number, tail(bobOut.String(), 6000))
		}
	})
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

func getJSON(t *testing.T, s *server, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(readFile(t, filepath.Join(s.dataDir, "admin.token"))))
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := readBody(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := decodeFresh([]byte(b), out); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// runLinphonec starts linphonec on rc, asks for its states once it had
// time to provision and register, and quits.
func runLinphonec(t *testing.T, home, rc string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "linphonec", "-c", rc, "-S", "-d", "6", "-l", filepath.Join(home, "run.log"))
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.Dir = home
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Ask for the states until the account is registered (or 20 s pass).
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		fmt.Fprintln(stdin, "states")
		if strings.Contains(out.String(), "LinphoneRegistrationOk") {
			break
		}
	}
	time.Sleep(300 * time.Millisecond)
	fmt.Fprintln(stdin, "quit")
	stdin.Close()
	_ = cmd.Wait()
	return out.String()
}

// syncBuffer collects a process's output for reading while it runs.
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

func waitFor(t *testing.T, out *syncBuffer, what string, re *regexp.Regexp, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if re.MatchString(out.String()) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %q not seen within %v:\n%s", what, re, d, tail(out.String(), 4000))
}

// startBaresip runs baresip for an account, its config written from the
// configuration the reference client received: SIP over TLS to the
// registrar, auto-answer, no sound card. cmd, when given, runs at start.
// The outbound proxy is an IP address: baresip resolves names through DNS
// servers only, never /etc/hosts.
func startBaresip(t *testing.T, s *server, a *sipAccount, cmd string) *syncBuffer {
	t.Helper()
	dir := t.TempDir()
	// baresip sets up SIP over TLS only with a certificate of its own.
	uaPEM := filepath.Join(dir, "ua.pem")
	if err := os.WriteFile(uaPEM, []byte(readFile(t, s.pki.certPath)+readFile(t, s.pki.keyPath)), 0o600); err != nil {
		t.Fatal(err)
	}
	// sip_listen with port 0: baresip binds UDP, TCP and TLS each to a
	// port the system picks, so no other process can take one in between.
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:0
net_interface 127.0.0.1
sip_cafile %s
sip_certificate %s
audio_source ausine,440
audio_player aubridge,nul
audio_alert aubridge,nul
module_path /usr/lib/baresip/modules
module opus.so
module g711.so
module aubridge.so
module ausine.so
module aufile.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
`, s.pki.caPath, uaPEM)
	accounts := fmt.Sprintf("<sip:%s@127.0.0.1;transport=tls>;auth_pass=%s;outbound=\"sip:127.0.0.1:%d;transport=tls\";regint=300;answermode=auto\n",
		a.username, a.password, s.tlsPort)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(accounts), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", dir, "-t", "40", "-s"} // -s: SIP trace on stdout
	if cmd != "" {
		args = append(args, "-e", cmd)
	}
	p := exec.Command("baresip", args...)
	devnull, _ := os.Open(os.DevNull)
	out := &syncBuffer{}
	p.Stdin, p.Stdout, p.Stderr = devnull, out, out
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = p.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = p.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
		devnull.Close()
	})
	return out
}
