package cli

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// unitValues reads a systemd unit's [Service] keys (a key may repeat).
func unitValues(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is not key=value", path, line)
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// serveEnvVars are the environment variables serve's flags read.
func serveEnvVars() map[string]bool {
	out := map[string]bool{}
	newServeCmd(&globals{}).Flags().VisitAll(func(f *pflag.Flag) { out[envOf(f)] = true })
	return out
}

// TestSystemdUnitRunsAValidServe parses deploy/activator.service, runs its
// ExecStart through serve's own flag parsing with the sample configuration
// file it names, and checks that its data folder is the StateDirectory, its
// configuration file the ConfigurationDirectory's, its user not root, and
// that systemd itself accepts the unit when systemd-analyze is installed.
func TestSystemdUnitRunsAValidServe(t *testing.T) {
	const unit = "../../deploy/activator.service"
	u := unitValues(t, unit)
	if user := u["User"]; len(user) != 1 || user[0] == "" || user[0] == "root" || user[0] == "0" {
		t.Errorf("User=%v: want one user that is not root", user)
	}
	for _, want := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"} {
		k, v, _ := strings.Cut(want, "=")
		if !slices.Contains(u[k], v) {
			t.Errorf("%s lacks %s", unit, want)
		}
	}
	if len(u["ExecStart"]) != 1 {
		t.Fatalf("ExecStart: %v, want one", u["ExecStart"])
	}
	argv := strings.Fields(u["ExecStart"][0])
	if strings.ContainsAny(u["ExecStart"][0], `"'$\`) {
		t.Fatalf("ExecStart %q: keep it to plain words, which this test splits as systemd does", u["ExecStart"][0])
	}
	if argv[0] != "/usr/local/bin/activator" || len(argv) < 2 || argv[1] != "serve" {
		t.Fatalf("ExecStart %q: want /usr/local/bin/activator serve ...", u["ExecStart"][0])
	}
	fs := newServeCmd(&globals{}).Flags()
	if err := fs.Parse(argv[2:]); err != nil {
		t.Fatalf("ExecStart's flags: %v", err)
	}
	data, _ := fs.GetString("data")
	if dirs := u["StateDirectory"]; len(dirs) != 1 || data != "/var/lib/"+dirs[0] {
		t.Errorf("--data %q is not the StateDirectory %v", data, dirs)
	}
	config, _ := fs.GetString(configFlag)
	if dirs := u["ConfigurationDirectory"]; len(dirs) != 1 || filepath.Dir(config) != "/etc/"+dirs[0] || filepath.Base(config) != "activator.toml" {
		t.Errorf("--config %q is not activator.toml in the ConfigurationDirectory %v", config, dirs)
	}
	// The whole command line, with the sample file in place of the installed one.
	args := slices.Clone(argv[2:])
	args[slices.Index(args, config)] = "../../deploy/activator.toml"
	got, err := resolveServe(t, nil, args...)
	if err != nil {
		t.Fatalf("serve with the unit's ExecStart and deploy/activator.toml: %v", err)
	}
	if got.cfg.DataDir != data || got.logFormat != "json" {
		t.Errorf("the unit's serve: data %q, log format %q", got.cfg.DataDir, got.logFormat)
	}
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		// verify wants the binary to exist: check a copy that runs /bin/true.
		raw, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(t.TempDir(), "activator.service")
		os.WriteFile(tmp, []byte(strings.ReplaceAll(string(raw), "/usr/local/bin/activator", "/bin/true")), 0o644)
		if out, err := exec.Command(analyze, "verify", tmp).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
}

// containerfile is the instructions of a Containerfile, continuation
// lines joined.
func containerfile(t *testing.T, path string) [][2]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		ins, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, [2]string{strings.ToUpper(ins), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// TestContainerfileRunsAValidServe checks deploy/Containerfile against the
// code: a multi-stage build of ./cmd/activator, a user that is not root,
// ENV lines that are serve's environment variables and make a valid serve
// with CMD, the data folder they name as the VOLUME, and a HEALTHCHECK on
// /healthz at the port the server listens on, which is exposed.
func TestContainerfileRunsAValidServe(t *testing.T) {
	const file = "../../deploy/Containerfile"
	var froms, copies []string
	var runs, healthcheck, user, entrypoint, cmd, volume string
	env := map[string]string{}
	var exposed []string
	for _, in := range containerfile(t, file) {
		switch in[0] {
		case "FROM":
			froms = append(froms, in[1])
		case "RUN":
			runs += in[1] + "\n"
		case "COPY":
			copies = append(copies, in[1])
		case "ENV":
			for _, kv := range strings.Fields(in[1]) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("ENV %q: write KEY=value", in[1])
				}
				env[k] = v
			}
		case "USER":
			user = in[1]
		case "VOLUME":
			volume = in[1]
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in[1])...)
		case "HEALTHCHECK":
			healthcheck = in[1]
		case "ENTRYPOINT":
			entrypoint = in[1]
		case "CMD":
			cmd = in[1]
		}
	}
	if len(froms) < 2 || !strings.HasSuffix(froms[0], " AS build") {
		t.Errorf("FROM %v: want a build stage named build and a runtime stage", froms)
	}
	if !strings.Contains(runs, "go build") || !strings.Contains(runs, "./cmd/activator") {
		t.Errorf("no RUN go build ... ./cmd/activator in:\n%s", runs)
	} else if _, err := os.Stat("../../cmd/activator/main.go"); err != nil {
		t.Errorf("the build's ./cmd/activator: %v", err)
	}
	if !slices.ContainsFunc(copies, func(c string) bool {
		return strings.HasPrefix(c, "--from=build ") && strings.HasSuffix(c, " /usr/local/bin/activator")
	}) {
		t.Errorf("COPY %v: want the binary from the build stage at /usr/local/bin/activator", copies)
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("USER %q: want a user that is not root", user)
	}
	known := serveEnvVars()
	for k := range env {
		if strings.HasPrefix(k, "ACTIVATOR_") && !known[k] {
			t.Errorf("ENV %s is not an environment variable of activator serve", k)
		}
	}
	var entry, args []string
	if err := json.Unmarshal([]byte(entrypoint), &entry); err != nil || !slices.Equal(entry, []string{"/usr/local/bin/activator"}) {
		t.Errorf("ENTRYPOINT %s: want [\"/usr/local/bin/activator\"] (%v)", entrypoint, err)
	}
	if err := json.Unmarshal([]byte(cmd), &args); err != nil || len(args) == 0 || args[0] != "serve" {
		t.Fatalf("CMD %s: want [\"serve\", ...] (%v)", cmd, err)
	}
	got, err := resolveServe(t, env, args[1:]...)
	if err != nil {
		t.Fatalf("serve with the image's ENV and CMD: %v", err)
	}
	var volumes []string
	if err := json.Unmarshal([]byte(volume), &volumes); err != nil || !slices.Contains(volumes, got.cfg.DataDir) {
		t.Errorf("VOLUME %s does not hold the data folder %q (%v)", volume, got.cfg.DataDir, err)
	}
	host, port, err := net.SplitHostPort(got.cfg.Listen)
	if err != nil || host != "0.0.0.0" {
		t.Errorf("the image listens on %q: want 0.0.0.0:PORT, reachable from outside the container", got.cfg.Listen)
	}
	if !strings.Contains(healthcheck, "http://127.0.0.1:"+port+"/healthz") {
		t.Errorf("HEALTHCHECK %q does not ask /healthz on port %s", healthcheck, port)
	}
	if !slices.Contains(exposed, port+"/tcp") && !slices.Contains(exposed, port) {
		t.Errorf("EXPOSE %v lacks the HTTP port %s", exposed, port)
	}
}
