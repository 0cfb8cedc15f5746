package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/activator-voip/activator/internal/app/apptest"
	"github.com/activator-voip/activator/internal/model"
)

// openPTY opens a pseudo-terminal pair: what the command reads is the
// terminal side; what the test writes to the other side is typed.
func openPTY(t *testing.T) (tty, typist *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlocking the pseudo-terminal: %v", e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return s, m
}

func TestIsTerminalOnlyForATerminal(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "answers"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, f := range map[string]io.Reader{"/dev/null": devNull, "a pipe": r, "a file": file, "a string": strings.NewReader("y\n")} {
		if isTerminal(f) {
			t.Errorf("%s is taken for a terminal", name)
		}
	}
	tty, _ := openPTY(t)
	if !isTerminal(tty) {
		t.Error("a pseudo-terminal is not taken for a terminal")
	}
}

// TestImportFromScriptsAndTerminals: standard input from /dev/null, a pipe
// or a file (cron, systemd, CI) imports without asking; on a terminal the
// import asks, and "no" imports nothing and exits non-zero.
func TestImportFromScriptsAndTerminals(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	env := map[string]string{envURL: s.URL, envToken: s.AdminToken}
	if r := runCLI(t, env, "", "group", "create", "sales"); r.err != nil {
		t.Fatal(r.err)
	}
	dir := t.TempDir()
	rows := 0
	importWith := func(stdin *os.File) (string, error) {
		t.Helper()
		rows++
		path := filepath.Join(dir, "staff"+strconv.Itoa(rows)+".csv")
		if err := os.WriteFile(path, []byte("full name\nPerson "+strconv.Itoa(rows)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		root := NewRootCmd(Env{Getenv: func(k string) string { return env[k] }})
		var out, errOut bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errOut)
		root.SetIn(stdin)
		err := Execute(context.Background(), root, []string{"import", path, "--group", "sales"})
		return out.String() + errOut.String(), err
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if out, err := importWith(devNull); err != nil || !strings.Contains(out, "1 created") || strings.Contains(out, "?") {
		t.Errorf("stdin from /dev/null: %v\n%s", err, out)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pw.WriteString("n\n") // a pipe is not asked, whatever it holds
	pw.Close()
	if out, err := importWith(pr); err != nil || !strings.Contains(out, "1 created") {
		t.Errorf("stdin from a pipe: %v\n%s", err, out)
	}
	pr.Close()

	tty, typist := openPTY(t)
	typist.WriteString("n\n")
	out, err := importWith(tty)
	if err == nil || !strings.Contains(err.Error(), "cancelled: nothing imported") || !strings.Contains(out, "Import 1 account(s)? [y/N]") {
		t.Errorf("answering no on a terminal: want the question and a non-zero exit, got %v\n%s", err, out)
	}
	typist.WriteString("y\n")
	if out, err := importWith(tty); err != nil || !strings.Contains(out, "1 created") {
		t.Errorf("answering yes on a terminal: %v\n%s", err, out)
	}
	var list accountList
	r := runCLI(t, env, "", "account", "list", "-o", "json")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list.Accounts) != 3 {
		t.Errorf("want the 3 accounts not refused, got %d (%v):\n%s", len(list.Accounts), err, r.stdout)
	}
}

// TestProgressDrawsABarOnATerminalAndLinesElsewhere: a terminal gets one
// bar redrawn in place; a log gets a line per step that moved, and the last.
func TestProgressDrawsABarOnATerminalAndLinesElsewhere(t *testing.T) {
	var term, log bytes.Buffer
	bar := &progress{w: &term, label: "sent", terminal: true, lastN: -1}
	lines := &progress{w: &log, label: "sent", lastN: -1}
	for _, n := range []int{0, 5, 5, 10} {
		bar.show(n, 10)
		lines.show(n, 10)
	}
	bar.end()
	if want := "\rsent      [##############################] 10/10\n"; !strings.HasSuffix(term.String(), want) || strings.Count(term.String(), "\n") != 1 {
		t.Errorf("terminal: %q, want a bar redrawn in place ending %q", term.String(), want)
	}
	if got := log.String(); got != "sent 0/10\nsent 10/10\n" {
		t.Errorf("log: %q, want the first line and the last (the middle ones came within 2 s)", got)
	}
}

// TestFollowImportWaitsOutAnOutage: while the server answers 503 (its
// database away), following an import waits; a 404 ends it with the error.
func TestFollowImportWaitsOutAnOutage(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/imports/9"):
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"code":"import_not_found","message":"no import 9"}}`)
		case calls <= 2:
			w.WriteHeader(503)
			io.WriteString(w, `{"error":{"code":"database_unavailable","message":"the database is unavailable for now"}}`)
		case calls == 3:
			json.NewEncoder(w).Encode(model.ImportStatus{ID: 1, State: model.ImportSending, Sent: 5, ToSend: 10})
		default:
			json.NewEncoder(w).Encode(model.ImportStatus{ID: 1, State: model.ImportDone, Sent: 10, ToSend: 10})
		}
	}))
	defer srv.Close()
	c, err := newAPIClient(srv.URL, "ava_x")
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	st, err := followImport(context.Background(), c, "1", model.ImportSending, func(s model.ImportStatus) { seen = append(seen, s.Sent) })
	if err != nil || st.State != model.ImportDone || len(seen) != 2 || calls != 4 {
		t.Fatalf("following through two 503s: %+v, %v, progress %v after %d calls", st, err, seen, calls)
	}
	if _, err := followImport(context.Background(), c, "9", model.ImportSending, func(model.ImportStatus) {}); err == nil || !strings.Contains(err.Error(), "no import 9") {
		t.Fatalf("following an unknown import: %v", err)
	}
}

// TestImportFollowsAConfirmationThatGoesOnAsAJob: when the server answers
// the confirmation with 202 (here at once), the command follows the job
// to its end with progress lines on a standard error that is no terminal,
// standard input from /dev/null, and reports what it created.
func TestImportFollowsAConfirmationThatGoesOnAsAJob(t *testing.T) {
	s := apptest.Start(t, apptest.Options{ImportConfirmWait: -1})
	env := map[string]string{envURL: s.URL, envToken: s.AdminToken}
	if r := runCLI(t, env, "", "group", "create", "sales"); r.err != nil {
		t.Fatal(r.err)
	}
	const n = 1500
	var b strings.Builder
	b.WriteString("full name,mobile number\n")
	for i := 0; i < n; i++ {
		b.WriteString("Person " + strconv.Itoa(i) + ",+39333" + strconv.Itoa(1000000+i) + "\n")
	}
	path := filepath.Join(t.TempDir(), "staff.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	root := NewRootCmd(Env{Getenv: func(k string) string { return env[k] }})
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(devNull)
	if err := Execute(context.Background(), root, []string{"import", path, "--group", "sales"}); err != nil {
		t.Fatalf("import: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "imported 1500/1500\n") || strings.Contains(errOut.String(), "\r") {
		t.Errorf("standard error: %q, want plain progress lines ending with all %d rows", errOut.String(), n)
	}
	if !strings.Contains(out.String(), "1500 created") {
		t.Errorf("standard output: %q", out.String())
	}
}
