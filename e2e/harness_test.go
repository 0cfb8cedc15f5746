package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	proc    *os.Process
	exited  chan struct{} // closed when the process has exited
	waitErr error         // the process's exit, valid once exited is closed
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

// anyPort is the serve flags that put every listener on loopback, each on
// a port the system chooses as the server binds it: a port nobody can take
// between choosing and binding.
func anyPort() []string {
	return []string{"--listen", "127.0.0.1:0", "--sip-udp", "127.0.0.1:0", "--sip-tcp", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0"}
}

// startServer runs `activator serve` on loopback ports the system picks,
// with a fresh data folder and a JSON log, and waits until /healthz
// answers. database is a PostgreSQL URL, or empty for the default SQLite in
// the data folder.
func startServer(t *testing.T, bin, database string) *server {
	t.Helper()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	args := append(anyPort(), "--data", dataDir, "--log-format", "json")
	if database != "" {
		args = append(args, "--database", database)
	}
	s, l := startServe(t, bin, dir, nil, args)
	s.url, s.dataDir = l.URL, dataDir
	s.waitHealthy(t, &http.Client{Timeout: time.Second})
	return s
}

// startServe runs `activator serve` with args and a ready file, its output
// in a log file in dir, and waits until the ready file says where it
// listens. Each start has its own files, so a restart on the same dir
// cannot read the last one's. The process is killed when the test ends,
// whatever happened.
func startServe(t *testing.T, bin, dir string, env, args []string) (*server, listening) {
	t.Helper()
	stamp := strconv.FormatInt(time.Now().UnixNano(), 10)
	ready := filepath.Join(dir, "ready-"+stamp+".json")
	s := &server{logPath: filepath.Join(dir, "server-"+stamp+".log"), exited: make(chan struct{})}
	s.args = append(append([]string{"serve"}, args...), "--ready-file", ready)
	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatalf("creating the log file: %v", err)
	}
	cmd := exec.Command(bin, s.args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, cleanEnv(env...), logFile, logFile
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
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			t.Fatalf("activator %s exited before writing its ready file (%v); log:\n%s",
				quoteArgs(s.args), s.waitErr, readFile(t, s.logPath))
		default:
		}
		if b, err := os.ReadFile(ready); err == nil {
			var l listening
			if err := json.Unmarshal(b, &l); err != nil || l.URL == "" {
				t.Fatalf("activator %s: ready file %q: %v", quoteArgs(s.args), b, err)
			}
			return s, l
		}
		if time.Now().After(deadline) {
			t.Fatalf("activator %s: no ready file within %v; log:\n%s", quoteArgs(s.args), startTimeout, readFile(t, s.logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitHealthy waits until s answers /healthz with 200 through hc.
func (s *server) waitHealthy(t *testing.T, hc *http.Client) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			t.Fatalf("activator %s exited: %v; log:\n%s", quoteArgs(s.args), s.waitErr, readFile(t, s.logPath))
		default:
		}
		resp, err := hc.Get(s.url + "/healthz")
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

func newCLI(t *testing.T, bin string, s *server) *cli {
	t.Helper()
	return &cli{
		bin: bin,
		dir: t.TempDir(),
		env: cleanEnv("ACTIVATOR_URL="+s.url, "ACTIVATOR_TOKEN_FILE="+filepath.Join(s.dataDir, "admin.token")),
	}
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
	if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
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
	if err := json.Unmarshal([]byte(b), out); err != nil {
		t.Fatalf("decoding %s as %T: %v\n%s", path, out, err, b)
	}
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
