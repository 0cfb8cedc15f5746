package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// TestDiskFull runs activator on SQLite in a data folder on a 4 MB tmpfs
// and fills that filesystem up: writes answer 507 with Retry-After and a
// message naming the disk, reads keep working, the log says it once;
// with space made again, writes work again with no restart. Mounting
// takes root: under CI the test must be able to; elsewhere it skips
// without it.
func TestDiskFull(t *testing.T) {
	t.Parallel() // long: it runs beside the other end-to-end tests
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", data).CombinedOutput(); err != nil {
		why := fmt.Sprintf("mounting a 4 MB tmpfs for a full disk: %v: %s", err, strings.TrimSpace(string(out)))
		if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
			t.Fatal(why)
		}
		t.Skip(why + " (it takes root)")
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", data).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", data, err, out)
		}
	})

	bin := buildBinary(t, t.TempDir())
	env := []string{"ACTIVATOR_SIP_UDP=off", "ACTIVATOR_SIP_TCP=off", "ACTIVATOR_SIP_TLS=off"}
	srv := startServe(t, bin, serveOptions{dir: dir, httpOnly: true, logLevel: "warn", env: env})
	token := strings.TrimSpace(readFile(t, filepath.Join(srv.dataDir, "admin.token")))
	a := &api{base: srv.url + "/api/v1", token: token, hc: &http.Client{Timeout: 30 * time.Second}}
	a.do(t, "POST", "/groups", model.GroupInput{Name: strp("field")}, nil)
	a.do(t, "POST", "/accounts", model.AccountInput{Group: strp("field"), Name: strp("Ada Lovelace")}, nil)
	if t.Failed() {
		t.FailNow()
	}

	// Fill the filesystem to its last byte.
	filler := filepath.Join(data, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	post := func(i int) (int, http.Header, string) {
		body := fmt.Sprintf(`{"group":"field","name":"User %d","description":%q}`, i, strings.Repeat("x", 1000))
		req, _ := http.NewRequest("POST", a.base+"/accounts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := a.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	// Space already given to the database takes a few writes more; then a
	// write needs a page the disk does not have.
	var code, refused int
	var h http.Header
	var body string
	written := 0
	for i := 0; i < 5000; i++ {
		if code, h, body = post(i); code != http.StatusCreated {
			refused++
			if refused == 3 {
				break
			}
			continue
		}
		written++
	}
	var e model.ErrorBody
	if code != http.StatusInsufficientStorage || h.Get("Retry-After") == "" || json.Unmarshal([]byte(body), &e) != nil ||
		e.Error.Code != "disk_full" || !strings.Contains(e.Error.Message, data) {
		t.Fatalf("a write on a full disk: want 507 disk_full, Retry-After and a message naming %s; got %d %v %s", data, code, h, body)
	}
	t.Logf("%d writes went through before the disk was full; then: %s", written, e.Error.Message)

	// Reads keep working.
	var list struct {
		Accounts []model.Account `json:"accounts"`
	}
	if a.do(t, "GET", "/accounts?limit=5", nil, &list); len(list.Accounts) == 0 {
		t.Errorf("reading the accounts on a full disk found none")
	}

	// Space again: writes work again, by themselves.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := 10000; ; i++ {
		code, _, body = post(i)
		if code == http.StatusCreated && strings.Contains(readFile(t, srv.logPath), "the database works again") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after space was made: %d %s; log:\n%s", code, body, readFile(t, srv.logPath))
		}
		time.Sleep(250 * time.Millisecond)
	}
	log := readFile(t, srv.logPath)
	if n := strings.Count(log, "the database's disk is full;"); n != 1 {
		t.Errorf("the log says %d times that the disk is full, want once:\n%s", n, log)
	}
	srv.stop(t)
}
