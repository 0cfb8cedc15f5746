package e2e_test

import (
	"context"
	"io"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// TestDesktopOpensTheActivationFile: under a throwaway HOME, after
// `activator device register-handler`, xdg-mime knows the downloaded
// activation file's type (by name and by content), names our desktop entry
// as its default application, and running that entry on the file
// activates the account.
func TestDesktopOpensTheActivationFile(t *testing.T) {
	needTools(t, "xdg-mime", "gio", "update-mime-database")
	bin := buildBinary(t, t.TempDir())
	srv := startServe(t, bin, serveOptions{pki: newTestPKI(t), logLevel: "debug"})
	c := newCLI(t, bin, srv)
	srv.setUp(t, c)
	acc := newAccount(t, c, "Desk", "5001")

	home := t.TempDir()
	phone := filepath.Join(home, "phone")
	env := []string{"HOME=" + home, "XDG_CURRENT_DESKTOP=GNOME", "SSL_CERT_FILE=" + srv.pki.caPath}
	for _, kv := range cleanEnv() {
		if k, _, _ := strings.Cut(kv, "="); k != "HOME" && !strings.HasPrefix(k, "XDG_") && k != "SSL_CERT_FILE" {
			env = append(env, kv)
		}
	}
	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env, cmd.Dir = env, home
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, quoteArgs(args), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(bin, "device", "register-handler", "--dir", phone)

	// The browser's download: the file under the name the server gives it.
	resp, err := srv.hc.Get(acc.link + "/activation")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if resp.StatusCode != 200 || params["filename"] == "" {
		t.Fatalf("downloading the activation file: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	downloads := filepath.Join(home, "Downloads")
	os.MkdirAll(downloads, 0o755)
	file := filepath.Join(downloads, params["filename"])
	unnamed := filepath.Join(downloads, "download")
	for _, p := range []string{file, unnamed} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const want = "application/vnd.activator.activation+json"
	if got := run("xdg-mime", "query", "filetype", file); got != want {
		t.Errorf("xdg-mime query filetype %s = %q, want %q", filepath.Base(file), got, want)
	}
	if got := run("xdg-mime", "query", "filetype", unnamed); got != want {
		t.Errorf("xdg-mime query filetype of the file without its extension (content magic) = %q, want %q", got, want)
	}
	if got := run("xdg-mime", "query", "default", want); got != "activator-activation.desktop" {
		t.Fatalf("xdg-mime query default %s = %q, want activator-activation.desktop", want, got)
	}

	// Open the file as the desktop does: the entry's Exec line with %f.
	entry := readFile(t, filepath.Join(home, ".local/share/applications/activator-activation.desktop"))
	var execLine string
	for _, l := range strings.Split(entry, "\n") {
		if v, ok := strings.CutPrefix(l, "Exec="); ok {
			execLine = v
		}
	}
	argv := strings.Fields(execLine)
	if len(argv) < 2 || !strings.Contains(execLine, "%f") {
		t.Fatalf("desktop entry Exec line %q", execLine)
	}
	for i, a := range argv {
		if a == "%f" {
			argv[i] = file
		}
	}
	run(argv[0], argv[1:]...)
	var cfg model.DeviceConfig
	readJSONFile(t, filepath.Join(phone, "config.json"), &cfg)
	if cfg.Account.Username != acc.username {
		t.Fatalf("the configuration written is for %q, want %q", cfg.Account.Username, acc.username)
	}
	var d model.AccountDetail
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.json(t, &d, "account", "show", acc.username)
		if d.Account.Status == model.StageActivated || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d.Account.Status != model.StageActivated {
		t.Fatalf("account status %q after opening the file, want activated", d.Account.Status)
	}
}
