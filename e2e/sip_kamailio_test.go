package e2e_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/activator-voip/activator/internal/store/storetest"
)

// TestKamailioBackend: with --accounts-backend kamailio, Kamailio 5.6
// (configured by docs/kamailio.md, on PostgreSQL and on SQLite)
// authenticates a REGISTER with the credentials activator delivered, and
// refuses it once the account is disabled in activator.
func TestKamailioBackend(t *testing.T) {
	needTools(t, "kamailio", "sipp", "sqlite3")
	backends := storetest.Backends(t)
	bin := buildBinary(t, t.TempDir())
	cfgTemplate := kamailioCfgFromDocs(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var kamURL, activatorDB string
			switch name {
			case "sqlite":
				path := filepath.Join(t.TempDir(), "kamailio.sqlite")
				schema := readFile(t, "/usr/share/kamailio/db_sqlite/standard-create.sql") + readFile(t, "/usr/share/kamailio/db_sqlite/auth_db-create.sql")
				cmd := exec.Command("sqlite3", path)
				cmd.Stdin = strings.NewReader(schema)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("creating kamailio's sqlite database: %v\n%s", err, out)
				}
				kamURL, activatorDB = "sqlite://"+path, path
			case "postgres":
				i := slices.IndexFunc(backends, func(b storetest.Backend) bool { return b.Name == "postgres" })
				if i < 0 {
					t.Skipf("%s is not set", storetest.EnvPostgres)
				}
				dsn := backends[i].DSN(t) // a throwaway database, kamailio's here
				db, err := sql.Open("pgx", dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				for _, f := range []string{"standard-create.sql", "auth_db-create.sql"} {
					if _, err := db.Exec(readFile(t, "/usr/share/kamailio/postgres/"+f)); err != nil {
						t.Fatalf("creating kamailio's tables (%s): %v", f, err)
					}
				}
				u, _ := url.Parse(dsn)
				u.RawQuery = ""
				kamURL, activatorDB = u.String(), dsn
			}
			srv := startServe(t, bin, serveOptions{pki: newTestPKI(t), logLevel: "debug",
				args: []string{"--accounts-backend", "kamailio", "--kamailio-db", activatorDB}})
			c := newCLI(t, bin, srv)
			srv.setUp(t, c)
			ann := newAccount(t, c, "Ann", "4001")
			ann.activate(t, c)

			port := startKamailio(t, cfgTemplate, kamURL, name == "sqlite")
			target := "127.0.0.1:" + strconv.Itoa(port)
			if rc := sippRegister(t, target, "localhost", ann.username, ann.password); rc != 0 {
				t.Fatalf("kamailio with the delivered password: sipp exit %d, want 0", rc)
			}
			if rc := sippRegister(t, target, "localhost", ann.username, ann.password+"x"); rc != 1 {
				t.Errorf("kamailio with a wrong password: sipp exit %d, want 1", rc)
			}
			c.ok(t, "account", "disable", ann.username)
			if rc := sippRegister(t, target, "localhost", ann.username, ann.password); rc != 1 {
				t.Errorf("kamailio after disable: sipp exit %d, want 1 (refused)", rc)
			}
			c.ok(t, "account", "enable", ann.username)
			if rc := sippRegister(t, target, "localhost", ann.username, ann.password); rc != 0 {
				t.Errorf("kamailio after enable: sipp exit %d, want 0", rc)
			}
			c.ok(t, "account", "delete", ann.username)
			if rc := sippRegister(t, target, "localhost", ann.username, ann.password); rc != 1 {
				t.Errorf("kamailio after delete: sipp exit %d, want 1", rc)
			}
		})
	}
}

// TestKamailioPortTakenIsRetried: Kamailio's exit on a port another
// process holds is recognised, so startKamailio starts it again elsewhere
// instead of failing the test that needed it.
func TestKamailioPortTakenIsRetried(t *testing.T) {
	needTools(t, "kamailio")
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	taken := c.LocalAddr().(*net.UDPAddr).Port
	db := "sqlite://" + filepath.Join(t.TempDir(), "none.sqlite") // never opened: the bind fails first
	if err := tryKamailio(t, kamailioCfgFromDocs(t), taken, db, true); !errors.Is(err, errPortTaken) {
		t.Fatalf("kamailio on a taken port: want errPortTaken, got %v", err)
	}
}

// kamailioCfgFromDocs is the kamailio.cfg block of docs/kamailio.md.
func kamailioCfgFromDocs(t *testing.T) string {
	t.Helper()
	doc := readFile(t, "../docs/kamailio.md")
	m := regexp.MustCompile("(?s)```cfg\n(.*?)```").FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("docs/kamailio.md has no ```cfg block")
	}
	return m[1]
}

// kamailioAttempts bounds the starts of Kamailio on a port another process
// took first.
const kamailioAttempts = 5

// mtaAttempts bounds the starts of Exim on a port taken first by another process.
const mtaAttempts = 5

// startKamailio runs Kamailio in the foreground on a loopback UDP port with
// the documented configuration, its two substdef lines replaced, and
// returns the port. Kamailio must be told its port up front (port 0 means
// 5060 to it): the port is one that was free a moment ago, and when another
// process binds it first, Kamailio exits on "Address already in use" and
// starts again on another.
func startKamailio(t *testing.T, cfg, dbURL string, sqlite bool) int {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port := unusedUDPPort(t)
		err := tryKamailio(t, cfg, port, dbURL, sqlite)
		if err == nil {
			return port
		}
		if !errors.Is(err, errPortTaken) || attempt == kamailioAttempts {
			t.Fatalf("starting kamailio (attempt %d of %d): %v", attempt, kamailioAttempts, err)
		}
		t.Logf("kamailio on udp port %d: %v; again on another port", port, err)
	}
}

// errPortTaken is a program's exit on a port another process bound first.
var errPortTaken = errors.New("the port was taken before the program bound it")

// unusedUDPPort is a loopback UDP port nobody held a moment ago. Only for a
// program that cannot bind port 0 itself: another process may bind it
// first, so the caller retries on that failure.
func unusedUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// unusedTCPPort is a loopback TCP port nobody held a moment ago, with the
// same caveat as unusedUDPPort.
func unusedTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func tryKamailio(t *testing.T, cfg string, port int, dbURL string, sqlite bool) error {
	t.Helper()
	dir := t.TempDir()
	cfg = regexp.MustCompile(`(?m)^#!substdef "!SIP_LISTEN!.*$`).ReplaceAllString(cfg, fmt.Sprintf(`#!substdef "!SIP_LISTEN!udp:127.0.0.1:%d!g"`, port))
	cfg = regexp.MustCompile(`(?m)^#!substdef "!DB_URL!.*$`).ReplaceAllLiteralString(cfg, `#!substdef "!DB_URL!`+dbURL+`!g"`)
	path := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", path, "-DD", "-E", "-Y", dir, "-m", "64", "-M", "8"}
	if sqlite {
		args = append(args, "-A", "WITH_SQLITE")
	}
	if out, err := exec.Command("kamailio", append([]string{"-c"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("kamailio -c (syntax check of docs/kamailio.md's cfg): %v\n%s", err, out)
	}
	cmd := exec.Command("kamailio", args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Kamailio forks its workers: stop the whole process group, and do not
	// wait for pipes its children might hold.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("kamailio output:\n%s", tail(out.String(), 4000))
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "[127.0.0.1]:"+strconv.Itoa(port)) || !strings.Contains(out.String(), "probe_max_receive_buffer") {
		if time.Now().After(deadline) {
			t.Fatalf("kamailio did not start:\n%s", out.String())
		}
		select {
		case <-done:
			// udp_init(): bind(...) on 127.0.0.1: Address already in use
			if strings.Contains(out.String(), "bind(") && strings.Contains(out.String(), "Address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("kamailio exited:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond) // its children finish binding
	return nil
}
