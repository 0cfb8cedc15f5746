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

// startServer runs `activator serve` on a free loopback port with a fresh
// data folder and a JSON log, and waits until /healthz answers. database is
// a PostgreSQL URL, or empty for the default SQLite in the data folder. The
// process is killed when the test ends, whatever happened.
func startServer(t *testing.T, bin, database string) *server {
	t.Helper()
	dir := t.TempDir()
	var lastErr error
	// Another process may take the port between probing and binding: try again.
	for attempt := 1; attempt <= 3; attempt++ {
		s, err := tryStartServer(t, bin, dir, database, attempt)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("starting the server: %v", lastErr)
	return nil
}

func tryStartServer(t *testing.T, bin, dir, database string, attempt int) (*server, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s := &server{
		url:     "http://" + listen,
		dataDir: filepath.Join(dir, "data"), // the same on a retry: a database may already point at its token
		logPath: filepath.Join(dir, fmt.Sprintf("server-%d.log", attempt)),
		exited:  make(chan struct{}),
	}
	s.args = []string{"serve", "--listen", listen, "--data", s.dataDir, "--log-format", "json"}
	if database != "" {
		s.args = append(s.args, "--database", database)
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("creating the log file: %w", err)
	}
	cmd := exec.Command(bin, s.args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("activator %s: %w", strings.Join(s.args, " "), err)
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

	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("activator %s exited before answering /healthz (%v); log:\n%s",
				strings.Join(s.args, " "), s.waitErr, readFile(t, s.logPath))
		default:
		}
		resp, err := hc.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = s.proc.Kill()
	<-s.exited
	t.Fatalf("activator %s: /healthz did not answer 200 within %v; log:\n%s",
		strings.Join(s.args, " "), startTimeout, readFile(t, s.logPath))
	return nil, nil
}

// freePort asks the kernel for a free loopback port and releases it.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
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
