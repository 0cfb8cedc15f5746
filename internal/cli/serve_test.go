package cli

import (
	"strings"
	"testing"
)

// TestServeRefusesBadLimits: a rate or a proxy list serve cannot read, from
// its flag or its environment variable, stops serve before anything starts,
// naming the flag. (The bad log level after them would stop it otherwise.)
func TestServeRefusesBadLimits(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--rate-limit-public", "lots"}, "--rate-limit-public"},
		{map[string]string{"ACTIVATOR_RATE_LIMIT_PUBLIC": "300/day"}, nil, "--rate-limit-public"},
		{nil, []string{"--rate-limit-login", "-5/m"}, "--rate-limit-login"},
		{map[string]string{"ACTIVATOR_RATE_LIMIT_LOGIN": "5"}, nil, "--rate-limit-login"},
		{nil, []string{"--trusted-proxies", "10.0.0.0/8,10.0.0.0/33"}, "--trusted-proxies"},
		{map[string]string{"ACTIVATOR_TRUSTED_PROXIES": "proxy.internal"}, nil, "--trusted-proxies"},
	} {
		args := append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--log-level", "nope"}, c.args...)
		r := runCLI(t, c.env, "", args...)
		if r.err == nil || !strings.Contains(r.all(), c.want) {
			t.Errorf("serve %v with %v: %v %q, want an error naming %s", c.args, c.env, r.err, r.all(), c.want)
		}
	}
}
