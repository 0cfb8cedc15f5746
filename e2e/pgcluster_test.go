package e2e_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pgBin holds the PostgreSQL server programs a throwaway cluster is made with.
const pgBin = "/usr/lib/postgresql/15/bin"

// pgCluster is a PostgreSQL cluster of the test's own, on a free loopback
// port, with its data in a temporary folder owned by the postgres user: a
// test may stop and start it, which it must never do to the shared server.
type pgCluster struct {
	dir  string
	port int
}

// newPGCluster makes and starts a throwaway cluster, stopped and removed
// when the test ends. Making one takes root (to run as postgres) and the
// PostgreSQL 15 server programs; without them the test skips, saying why,
// except under CI, where it fails.
func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("a throwaway PostgreSQL cluster: %s", why)
		}
		t.Skipf("a throwaway PostgreSQL cluster: %s", why)
	}
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		missing("no " + pgBin + "/initdb (the postgresql-15 package)")
	}
	if os.Geteuid() != 0 {
		missing("the test runs as a user who cannot run programs as postgres (not root)")
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		missing("no postgres user")
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	dir, err := os.MkdirTemp("", "activator-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{dir: dir, port: freePort(t)}
	c.run(t, "initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	c.start(t)
	t.Cleanup(func() {
		// Stopped whatever the test did to it; "immediate": nothing to keep.
		_ = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pgBin, "pg_ctl"), "-D", c.data(), "-m", "immediate", "-w", "stop").Run()
	})
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// dsn is the URL of the cluster's postgres database.
func (c *pgCluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// start starts the cluster and waits until it takes connections.
func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=100", c.port, c.dir)
	c.run(t, "pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-o", opts, "-w", "start")
}

// stop stops the cluster as an operator's "systemctl stop postgresql"
// would: the fast mode ends every session.
func (c *pgCluster) stop(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", c.data(), "-m", "fast", "-w", "stop")
}

func (c *pgCluster) run(t *testing.T, prog string, args ...string) {
	t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, prog)}, args...)...)
	cmd.Dir = c.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		t.Fatalf("%s %s: %v\n%s\nserver log:\n%s", prog, strings.Join(args, " "), err, out, log)
	}
}

// freePort is a loopback TCP port nothing listens on just now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
