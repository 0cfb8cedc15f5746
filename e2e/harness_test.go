package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeouts of the harness. The whole scenario takes a few seconds; these only
// bound how long a hung process can hold the test.
const (
	buildTimeout   = 3 * time.Minute
	startTimeout   = 15 * time.Second
	commandTimeout = 30 * time.Second
	stopTimeout    = 15 * time.Second
)

// buildBinary compiles ./cmd/activator from the module root into dir, once
// per test run, so the test drives exactly what users run.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD answered %q: the test must run inside the activator module", gomod)
	}
	bin := filepath.Join(dir, "activator")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/activator")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s ./cmd/activator (in %s): %v\n%s", bin, cmd.Dir, err, out)
	}
	return bin
}

// cleanEnv is the test process's environment without any ACTIVATOR_ variable,
// so a developer's own settings (ACTIVATOR_TOKEN, ACTIVATOR_DATABASE, ...)
// cannot leak into the processes under test.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ACTIVATOR_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// server is one running `activator serve` process.
type server struct {
	url     string
	dataDir string
	logPath string
	args    []string
	hc      *http.Client // a client for url: it trusts pki's CA when there is one
	pki     *testPKI     // the certificate of its HTTPS and SIP over TLS; nil: plain HTTP
	// The embedded registrar's ports; 0 when that listener is off.
	udpPort, tcpPort, tlsPort int
	proc                      *os.Process
	exited                    chan struct{} // closed when the process has exited
	waitErr                   error         // the process's exit, valid once exited is closed
}

// listening is what `serve --ready-file` writes: the addresses the server
// bound, with the ports the system chose for port 0 (docs/configuration.md).
type listening struct {
	URL    string `json:"url"`
	HTTP   string `json:"http"`
	SIPUDP string `json:"sip_udp"`
	SIPTCP string `json:"sip_tcp"`
	SIPTLS string `json:"sip_tls"`
}

// serveOptions is how a test's server differs from the plain one: SQLite
// in a fresh data folder, HTTP and every SIP listener on a loopback port
// the system chooses as the server binds it (a port nobody can take
// between choosing and binding), and a JSON log.
type serveOptions struct {
	database string // a PostgreSQL URL; empty: SQLite in the data folder
	// dir holds the data folder ("data"), the logs and the ready files;
	// empty: a new temporary folder. A restart is given the same one.
	dir string
	// pki serves HTTPS, at https://localhost:PORT, and SIP over TLS with
	// its certificate.
	pki *testPKI
	// httpOnly gives no SIP listener flag: the environment or the
	// defaults say which listeners run.
	httpOnly bool
	logLevel string   // empty: the default, info
	env      []string // more environment, over one without ACTIVATOR_ variables
	args     []string // more serve flags
}

// startServe runs `activator serve` as o says, with a ready file and its
// output in a log file in o.dir, and waits until the ready file says where
// it listens and /healthz answers. Each start has its own files, so a
// restart on the same dir cannot read the last one's. The process is
// killed when the test ends, whatever happened.
func startServe(t *testing.T, bin string, o serveOptions) *server {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	s := &server{dataDir: filepath.Join(o.dir, "data"), pki: o.pki, hc: &http.Client{Timeout: 10 * time.Second}, exited: make(chan struct{})}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 10)
	ready := filepath.Join(o.dir, "ready-"+stamp+".json")
	s.logPath = filepath.Join(o.dir, "server-"+stamp+".log")
	s.args = []string{"serve", "--listen", "127.0.0.1:0"}
	if !o.httpOnly {
		s.args = append(s.args, "--sip-udp", "127.0.0.1:0", "--sip-tcp", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0")
	}
	s.args = append(s.args, "--data", s.dataDir, "--log-format", "json")
	if o.logLevel != "" {
		s.args = append(s.args, "--log-level", o.logLevel)
	}
	if o.pki != nil {
		s.args = append(s.args, "--tls-cert", o.pki.certPath, "--tls-key", o.pki.keyPath, "--sip-cert", o.pki.certPath, "--sip-key", o.pki.keyPath)
		s.hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: o.pki.pool}}
	}
	if o.database != "" {
		s.args = append(s.args, "--database", o.database)
	}
	s.args = append(append(s.args, o.args...), "--ready-file", ready)

	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatalf("creating the log file: %v", err)
	}
	cmd := exec.Command(bin, s.args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = o.dir, cleanEnv(o.env...), logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("activator %s: %v", quoteArgs(s.args), err)
	}
	s.proc = cmd.Process
	go func() {
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			t.Logf("killing the server (pid %d): the test ended with it running", s.proc.Pid)
			_ = s.proc.Kill()
			<-s.exited
		}
	})

	l := s.waitReady(t, ready)
	s.url = l.URL
	if o.pki != nil {
		s.url = fmt.Sprintf("https://localhost:%d", port(t, l.HTTP))
	}
	for _, p := range []struct {
		addr string
		port *int
	}{{l.SIPUDP, &s.udpPort}, {l.SIPTCP, &s.tcpPort}, {l.SIPTLS, &s.tlsPort}} {
		if p.addr != "" {
			*p.port = port(t, p.addr)
		}
	}
	s.waitHealthy(t)
	return s
}

// waitReady waits until the server has written its ready file and returns
// what it holds.
func (s *server) waitReady(t *testing.T, path string) listening {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			t.Fatalf("activator %s exited before writing its ready file (%v); log:\n%s",
				quoteArgs(s.args), s.waitErr, readFile(t, s.logPath))
		default:
		}
		if b, err := os.ReadFile(path); err == nil {
			var l listening
			if err := json.Unmarshal(b, &l); err != nil || l.URL == "" {
				t.Fatalf("activator %s: ready file %q: %v", quoteArgs(s.args), b, err)
			}
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("activator %s: no ready file within %v; log:\n%s", quoteArgs(s.args), startTimeout, readFile(t, s.logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitHealthy waits until s answers /healthz with 200.
func (s *server) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			t.Fatalf("activator %s exited: %v; log:\n%s", quoteArgs(s.args), s.waitErr, readFile(t, s.logPath))
		default:
		}
		resp, err := s.hc.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("activator %s: /healthz did not answer 200 within %v (%v); log:\n%s",
				quoteArgs(s.args), startTimeout, err, readFile(t, s.logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// port is the port of a host:port address.
func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(p)
	if err != nil || perr != nil || n == 0 {
		t.Fatalf("address %q: want host:port with a port", addr)
	}
	return n
}

// stop sends SIGTERM and wants a clean exit (status 0) within stopTimeout.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("sending SIGTERM to activator %s: %v", strings.Join(s.args, " "), err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		t.Fatalf("activator %s: still running %v after SIGTERM; log:\n%s",
			strings.Join(s.args, " "), stopTimeout, readFile(t, s.logPath))
	}
	if s.waitErr != nil {
		t.Fatalf("activator %s after SIGTERM: want exit status 0, got %v; log:\n%s",
			strings.Join(s.args, " "), s.waitErr, readFile(t, s.logPath))
	}
}

// run is one finished CLI invocation.
type run struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r run) String() string {
	return fmt.Sprintf("activator %s\nexit status %d\nstdout:\n%s\nstderr:\n%s",
		quoteArgs(r.args), r.code, indent(r.stdout), indent(r.stderr))
}

// cli runs the activator command line against one server, as an operator
// would: the URL and the token file come from the environment.
type cli struct {
	bin        string
	env        []string
	dir        string
	transcript []run // every invocation, for the secrets check
}

// newCLI is the command line against s, trusting its CA when it has one.
func newCLI(t *testing.T, bin string, s *server) *cli {
	t.Helper()
	env := []string{"ACTIVATOR_URL=" + s.url, "ACTIVATOR_TOKEN_FILE=" + filepath.Join(s.dataDir, "admin.token")}
	if s.pki != nil {
		env = append(env, "SSL_CERT_FILE="+s.pki.caPath)
	}
	return &cli{bin: bin, dir: t.TempDir(), env: cleanEnv(env...)}
}

// exec runs the CLI and returns what it did, whatever its exit status.
func (c *cli) exec(t *testing.T, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := run{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	default:
		t.Fatalf("activator %s: %v", quoteArgs(args), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("activator %s: still running after %v\n%s", quoteArgs(args), commandTimeout, r)
	}
	c.transcript = append(c.transcript, r)
	return r
}

// ok runs the CLI and wants exit status 0.
func (c *cli) ok(t *testing.T, args ...string) run {
	t.Helper()
	r := c.exec(t, args...)
	if r.code != 0 {
		t.Fatalf("want exit status 0:\n%s", r)
	}
	return r
}

// json runs the CLI with -o json, wants exit status 0 and decodes stdout into out.
func (c *cli) json(t *testing.T, out any, args ...string) run {
	t.Helper()
	r := c.ok(t, append(args, "-o", "json")...)
	if err := decodeFresh([]byte(r.stdout), out); err != nil {
		t.Fatalf("decoding stdout as %T: %v\n%s", out, err, r)
	}
	return r
}

// fails runs the CLI and wants exit status 1 with an error on stderr.
func (c *cli) fails(t *testing.T, args ...string) run {
	t.Helper()
	r := c.exec(t, args...)
	if r.code != 1 {
		t.Fatalf("want exit status 1:\n%s", r)
	}
	if !strings.HasPrefix(r.stderr, "activator: ") {
		t.Fatalf(`want an error starting "activator: " on stderr:\n%s`, r)
	}
	return r
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return string(b)
}

func readJSONFile(t *testing.T, path string, out any) {
	t.Helper()
	b := readFile(t, path)
	if err := decodeFresh([]byte(b), out); err != nil {
		t.Fatalf("decoding %s as %T: %v\n%s", path, out, err, b)
	}
}

// decodeFresh decodes b into out (a pointer) as a value of its own:
// json.Unmarshal leaves a field the JSON omits as it was, and activator
// omits empty fields (last_error, say), so a test polling a job into one
// value saw an error the job had since got over.
func decodeFresh(b []byte, out any) error {
	if v := reflect.ValueOf(out); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero()
	}
	return json.Unmarshal(b, out)
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "  (empty)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
