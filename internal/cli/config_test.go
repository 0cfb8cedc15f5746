package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/activator-voip/activator/internal/app"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// serveSamples is a valid value, other than its default, for every flag of
// serve. A new flag needs one here.
var serveSamples = map[string]string{
	"data": "/srv/activator-data", "listen": "127.0.0.1:9999", "database": "postgres://u@127.0.0.1/db",
	"tls-cert": "/etc/a/cert.pem", "tls-key": "/etc/a/key.pem", "secret-key-file": "/etc/a/secret.key",
	"max-attempts": "5", "delivery-lease": "30s", "delivery-grace": "5s", "instance-id": "node-1",
	"log-level": "debug", "log-format": "json", "metrics-listen": "127.0.0.1:9464", "ready-file": "/run/a/ready.json",
	"sip-udp": "off", "sip-tcp": "127.0.0.1:5070", "sip-tls": "127.0.0.1:5071", "sip-cert": "/etc/a/sip.pem",
	"sip-key": "/etc/a/sip-key.pem", "sip-digest": "SHA-256,MD5", "sip-ban-failures": "3", "sip-ban-window": "5m",
	"sip-ban-time": "1h", "accounts-backend": "kamailio", "kamailio-db": "/var/lib/kamailio/k.sqlite",
	"rate-limit-public": "100/m", "rate-limit-login": "10/m", "trusted-proxies": "10.0.0.0/8,192.0.2.7",
	"acme-host": "activate.example.com,sip.example.com", "acme-email": "ops@example.com",
	"acme-directory": "https://acme.example.com/directory", "acme-directory-ca": "/etc/a/acme-ca.pem",
}

// resolved is what serve would start with.
type resolved struct {
	cfg                 app.Config
	logLevel, logFormat string
}

// resolveServe runs serve with args and env as far as the configuration it
// resolves, without starting a server.
func resolveServe(t *testing.T, env map[string]string, args ...string) (resolved, error) {
	t.Helper()
	var got resolved
	g := &globals{env: Env{Getenv: func(k string) string { return env[k] }}}
	g.serve = func(cfg app.Config, level, format string) error {
		got = resolved{cfg, level, format}
		return nil
	}
	cmd := newServeCmd(g)
	return got, run(cmd, args)
}

func run(cmd *cobra.Command, args []string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetIn(strings.NewReader(""))
	return cmd.ExecuteContext(context.Background())
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "activator.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// envOf is the environment variable a flag's help names in brackets.
func envOf(f *pflag.Flag) string {
	return f.Usage[strings.LastIndex(f.Usage, "[")+1 : len(f.Usage)-1]
}

// TestEveryServeFlagWorksAsFlagEnvAndFile walks every flag of serve and
// gives it a value on the command line, in its environment variable and
// in the configuration file: each way must start serve with the same
// configuration, and one that differs from the default's.
func TestEveryServeFlagWorksAsFlagEnvAndFile(t *testing.T) {
	def, err := resolveServe(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	newServeCmd(&globals{}).Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == configFlag {
			return
		}
		n++
		v, ok := serveSamples[f.Name]
		if !ok {
			t.Errorf("serve flag --%s has no sample value in serveSamples", f.Name)
			return
		}
		byFlag, err := resolveServe(t, nil, "--"+f.Name+"="+v)
		if err != nil {
			t.Errorf("--%s=%s: %v", f.Name, v, err)
			return
		}
		if reflect.DeepEqual(byFlag, def) {
			t.Errorf("--%s=%s changed nothing", f.Name, v)
		}
		byEnv, err := resolveServe(t, map[string]string{envOf(f): v})
		if err != nil || !reflect.DeepEqual(byEnv, byFlag) {
			t.Errorf("%s=%s: %v; want the effect of --%s=%s\n got %+v\nwant %+v", envOf(f), v, err, f.Name, v, byEnv, byFlag)
		}
		file := writeConfig(t, f.Name+" = "+quoteTOML(v)+"\n")
		byFile, err := resolveServe(t, nil, "--config", file)
		if err != nil || !reflect.DeepEqual(byFile, byFlag) {
			t.Errorf("%s = %q in the configuration file: %v; want the effect of --%s=%s\n got %+v\nwant %+v", f.Name, v, err, f.Name, v, byFile, byFlag)
		}
		byFileEnv, err := resolveServe(t, map[string]string{envConfig: file})
		if err != nil || !reflect.DeepEqual(byFileEnv, byFlag) {
			t.Errorf("%s = %q in the file %s names: %v", f.Name, v, envConfig, err)
		}
	})
	if n < 20 {
		t.Fatalf("walked only %d flags", n)
	}
}

func quoteTOML(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestConfigPrecedenceAndErrors: a flag wins over its environment
// variable, which wins over the file; the file's numbers and lists are
// taken as the flags take them; an unknown key or a value of another kind
// is an error naming the key.
func TestConfigPrecedenceAndErrors(t *testing.T) {
	file := writeConfig(t, `listen = "127.0.0.1:1001"
max-attempts = 4
trusted-proxies = ["10.0.0.0/8", "192.0.2.7"]
`)
	env := map[string]string{"ACTIVATOR_LISTEN": "127.0.0.1:1002"}
	got, err := resolveServe(t, env, "--config", file, "--listen", "127.0.0.1:1003")
	if err != nil || got.cfg.Listen != "127.0.0.1:1003" {
		t.Errorf("flag, env and file: listen %q (%v), want the flag's", got.cfg.Listen, err)
	}
	got, err = resolveServe(t, env, "--config", file)
	if err != nil || got.cfg.Listen != "127.0.0.1:1002" {
		t.Errorf("env and file: listen %q (%v), want the environment's", got.cfg.Listen, err)
	}
	got, err = resolveServe(t, nil, "--config", file)
	if err != nil || got.cfg.Listen != "127.0.0.1:1001" || got.cfg.MaxAttempts != 4 || len(got.cfg.Limits.TrustedProxies) != 2 {
		t.Errorf("file alone: %+v (%v), want its listen, max-attempts 4 and two trusted proxies", got.cfg, err)
	}
	for text, want := range map[string]string{
		"listn = \"127.0.0.1:1\"\n":  `unknown key "listn"`,
		"config = \"other.toml\"\n":  `unknown key "config"`,
		"[sip]\nudp = \"off\"\n":     `unknown key "sip"`,
		"max-attempts = 4.5\n":       `key "max-attempts": want a string`,
		"trusted-proxies = [1, 2]\n": `key "trusted-proxies": want a list of strings`,
		"listen = 127.0.0.1:1\n":     "line 1",
		"max-attempts = \"many\"\n":  "--max-attempts",
		"log-format = \"yaml\"\n":    "--log-format",
	} {
		if _, err := resolveServe(t, nil, "--config", writeConfig(t, text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("configuration file %q: %v, want an error with %q", text, err, want)
		}
	}
	if _, err := resolveServe(t, nil, "--config", filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("a missing configuration file was accepted")
	}
}

// TestBackupFlagsWorkAsFlagEnvAndFile: backup's --data and --database, the
// only other command with --config, read all three ways.
func TestBackupFlagsWorkAsFlagEnvAndFile(t *testing.T) {
	dir := t.TempDir()
	storetest.Open(t, filepath.Join(dir, "activator.db"))
	backup := func(env map[string]string, args ...string) error {
		t.Helper()
		g := &globals{env: Env{Getenv: func(k string) string { return env[k] }}}
		return run(newBackupCmd(g), append(args, filepath.Join(t.TempDir(), "b.db")))
	}
	t.Chdir(t.TempDir()) // no ./data here: the default finds no database
	if err := backup(nil); err == nil {
		t.Fatal("a backup with no database found worked")
	}
	for name, ways := range map[string][]func() error{
		"data": {
			func() error { return backup(nil, "--data", dir) },
			func() error { return backup(map[string]string{"ACTIVATOR_DATA": dir}) },
			func() error { return backup(nil, "--config", writeConfig(t, "data = "+quoteTOML(dir)+"\n")) },
		},
	} {
		for i, way := range ways {
			if err := way(); err != nil {
				t.Errorf("%s, way %d of flag, env, file: %v", name, i, err)
			}
		}
	}
	pg := "postgres://u@127.0.0.1/db"
	for i, way := range []func() error{
		func() error { return backup(nil, "--data", dir, "--database", pg) },
		func() error { return backup(map[string]string{"ACTIVATOR_DATABASE": pg}, "--data", dir) },
		func() error {
			return backup(nil, "--data", dir, "--config", writeConfig(t, "database = "+quoteTOML(pg)+"\n"))
		},
	} {
		if err := way(); err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Errorf("database, way %d of flag, env, file: %v, want the pg_dump refusal", i, err)
		}
	}
	if err := backup(nil, "--config", writeConfig(t, "dat = \"x\"\n")); err == nil || !strings.Contains(err.Error(), `"dat"`) {
		t.Errorf("backup with an unknown key in its file: %v", err)
	}
}
