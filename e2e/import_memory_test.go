package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// previewRows is how many rows the memory test's file has.
const previewRows = 1_000_000

// previewMemoryBound is the most memory (the process's peak resident set)
// the server may take to preview a file of any size.
const previewMemoryBound = 200 << 20

// TestImportPreviewOfAMillionRowsStaysInBoundedMemory uploads a
// 1,000,000-row CSV file, generated here, to a whole server and follows its
// check as the CLI does, then reads the server's peak resident memory
// (VmHWM) from /proc: it must stay under 200 MB. The preview counts every
// row.
func TestImportPreviewOfAMillionRowsStaysInBoundedMemory(t *testing.T) {
	t.Parallel() // long: it runs beside the other end-to-end tests
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: the server's peak memory cannot be read")
	}
	bin := buildBinary(t, t.TempDir())
	env := []string{"ACTIVATOR_SIP_UDP=off", "ACTIVATOR_SIP_TCP=off", "ACTIVATOR_SIP_TLS=off"}
	srv := startServe(t, bin, serveOptions{httpOnly: true, logLevel: "warn", env: env})
	token := strings.TrimSpace(readFile(t, filepath.Join(srv.dataDir, "admin.token")))
	a := &api{base: srv.url + "/api/v1", token: token, hc: &http.Client{Timeout: 60 * time.Second}}
	a.do(t, "POST", "/groups", model.GroupInput{Name: strp("field")}, nil)
	wide := "1000000-9999999" // room for a million new accounts
	a.do(t, "PUT", "/settings/"+model.SettingVirtualNumberRange, map[string]*string{"value": &wide}, nil)
	if t.Failed() {
		t.FailNow()
	}
	before := vmHWM(t, srv.proc.Pid)

	// The file: a name, a mobile number and an e-mail on every row, all
	// different, as a company's staff list would have them.
	path := filepath.Join(t.TempDir(), "staff.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("full name,mobile number,e-mail\n")
	for i := range previewRows {
		fmt.Fprintf(w, "Employee %d,+3933%08d,employee%d@example.com\n", i, i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	size, _ := f.Seek(0, 1)
	f.Seek(0, 0)
	defer f.Close()

	start := time.Now()
	req, _ := http.NewRequest("POST", a.base+"/imports?group=field&file_name=staff.csv", f)
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var prev model.ImportPreview
	json.NewDecoder(resp.Body).Decode(&prev)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %+v", resp.StatusCode, prev)
	}
	var st model.ImportStatus
	deadline := time.Now().Add(5 * time.Minute)
	for progress := 0; ; progress++ {
		a.do(t, "GET", "/imports/"+strconv.FormatInt(prev.ID, 10), nil, &st)
		if st.State != model.ImportChecking {
			break
		}
		if progress%20 == 0 {
			t.Logf("checking: %d rows, %d of %d bytes, after %v", st.Total, st.Checked, st.Size, time.Since(start).Round(time.Second))
		}
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("the check did not finish in 5 minutes: %+v", st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	took := time.Since(start)
	a.do(t, "GET", "/imports/"+strconv.FormatInt(prev.ID, 10)+"/preview", nil, &prev)
	peak := vmHWM(t, srv.proc.Pid)
	t.Logf("previewed %d rows (%d MB) in %v; the server's peak resident memory: %d MB (%d MB before the upload; the bound is %d MB)",
		previewRows, size>>20, took.Round(time.Second), peak>>20, before>>20, previewMemoryBound>>20)
	if st.State != model.ImportPreviewed || prev.Total != previewRows || prev.Create != previewRows || prev.Invalid != 0 {
		t.Errorf("the preview: state %s, %d rows, %d to create, %d bad (%v); want all %d to create", st.State, prev.Total, prev.Create, prev.Invalid, st.LastError, previewRows)
	}
	if peak > previewMemoryBound {
		t.Errorf("the server's peak resident memory was %d MB previewing %d rows, over the bound of %d MB", peak>>20, previewRows, previewMemoryBound>>20)
	}
	srv.stop(t)
}

// vmHWM reads a process's peak resident set size, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}
