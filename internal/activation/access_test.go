package activation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// withPassword makes an operator and sets their password through the
// set-password link, returning the session that starts.
func withPassword(t *testing.T, dom Domain, name string, role model.Role, password string) *Login {
	t.Helper()
	ctx := context.Background()
	created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp(name), Role: &role}, admin)
	if err != nil {
		t.Fatal(err)
	}
	l, err := dom.Access.SetPassword(ctx, setPasswordToken(t, created.SetPasswordURL), password)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func login(dom Domain, name, password, source string) (*Login, error) {
	return dom.Access.Login(context.Background(), model.DefaultOrgID, name, password, source)
}

// An attacker who keeps failing for the admin's name, from one address
// and from many, keeps neither the admin nor anyone else out: the admin
// logs in from an address of their own. Only the guessing addresses wait.
func TestLoginThrottleDoesNotLockTheOwnerOut(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		dom := newDomain(t, st)
		now := time.Now()
		setNow(dom, func() time.Time { return now })
		withPassword(t, dom, "root", "admin", "the admin's password")
		withPassword(t, dom, "eve", "csr", "eve's own password")

		// One address tries the admin's name until it waits.
		const guesser = "203.0.113.7:5060"
		for i := range SourceFreeFailures + 3 {
			if _, err := login(dom, "root", fmt.Sprintf("guess %d", i), guesser); err == nil {
				t.Fatalf("guess %d logged in", i)
			}
		}
		// Many addresses try it too, one guess each.
		for i := range NameFreeFailures + 3 {
			if _, err := login(dom, "root", "spread guess", fmt.Sprintf("198.51.100.%d:1234", i+1)); err == nil {
				t.Fatalf("spread guess %d logged in", i)
			}
		}

		if _, err := login(dom, "root", "the admin's password", "192.0.2.44:50123"); err != nil {
			t.Fatalf("the admin, from an address that never failed, after the attack: %v", err)
		}
		if _, err := login(dom, "eve", "eve's own password", "[2001:db8:1:2::5]:443"); err != nil {
			t.Fatalf("another operator, from elsewhere: %v", err)
		}
		// The guessing address waits, whatever the name and the password:
		// its guesses are not checked until the wait is over.
		if _, err := login(dom, "root", "the admin's password", guesser); !errors.Is(err, ErrLogin) {
			t.Fatalf("the right password from the waiting address: %v", err)
		}
		if _, err := login(dom, "eve", "eve's own password", "203.0.113.7:6000"); !errors.Is(err, ErrLogin) {
			t.Fatalf("another name from the waiting address (another port): %v", err)
		}
		// Each address of the spread guess waits for the admin's name once
		// the name is past its free failures, but may log in as someone else.
		spread := fmt.Sprintf("198.51.100.%d:1234", NameFreeFailures+3)
		if _, err := login(dom, "root", "the admin's password", spread); !errors.Is(err, ErrLogin) {
			t.Fatalf("the right password for the name from an address that failed on it: %v", err)
		}
		if _, err := login(dom, "eve", "eve's own password", spread); err != nil {
			t.Fatalf("that address, as another operator: %v", err)
		}
		// Waits end: nobody is locked for good.
		now = now.Add(ThrottleMaxWait + time.Second)
		if _, err := login(dom, "root", "the admin's password", guesser); err != nil {
			t.Fatalf("the right password from the guessing address after its wait: %v", err)
		}
	})
}

// Every way a login fails answers the same error, and each checks one
// password against an argon2id hash of the same cost, so none answers
// sooner than the others and none tells whether the name exists.
func TestEveryLoginFailureLooksTheSame(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		now := time.Now()
		setNow(dom, func() time.Time { return now })
		var verified []string // the hashes checked, one per verification
		dom.Access.verify = func(hash, password string) bool {
			verified = append(verified, hash)
			return CheckPassword(hash, password)
		}
		withPassword(t, dom, "ada", "csr", "ada's password")
		withPassword(t, dom, "dis", "csr", "dis's password")
		if _, err := dom.Operators.SetDisabled(ctx, "dis", true, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("new"), Role: new(model.RoleCSR)}, admin); err != nil {
			t.Fatal(err)
		}
		o, err := st.OperatorByName(ctx, model.DefaultOrgID, "ada")
		if err != nil {
			t.Fatal(err)
		}
		cost := o.PasswordHash[:strings.LastIndex(o.PasswordHash[:strings.LastIndex(o.PasswordHash, "$")], "$")] // $argon2id$v=..$m=..,t=..,p=..

		// The waiting address: past its free failures.
		const waiting = "203.0.113.9:1000"
		for i := range SourceFreeFailures + 1 {
			login(dom, fmt.Sprintf("nobody %d", i), "filler", waiting)
		}
		// The address waiting for ada's name: ada's name past its free
		// failures, then one failure from it.
		for i := range NameFreeFailures {
			login(dom, "ada", "wrong", fmt.Sprintf("198.51.100.%d:1", i+1))
		}
		const waitingForAda = "198.51.100.200:1"
		login(dom, "ada", "wrong", waitingForAda)

		cases := []struct{ what, name, password, source string }{
			{"an unknown name", "nobody", "ada's password", "192.0.2.1:1"},
			{"a wrong password", "ada", "not ada's password", "192.0.2.2:1"},
			{"a disabled operator's right password", "dis", "dis's password", "192.0.2.3:1"},
			{"an operator without a password yet", "new", "", "192.0.2.4:1"},
			{"the right password from a waiting address", "ada", "ada's password", waiting},
			{"the right password from an address waiting for the name", "ada", "ada's password", waitingForAda},
		}
		for _, c := range cases {
			verified = nil
			_, err := login(dom, c.name, c.password, c.source)
			var de *Error
			if !errors.As(err, &de) || *de != *ErrLogin {
				t.Errorf("%s: got %#v, want %#v", c.what, err, ErrLogin)
			}
			if len(verified) != 1 || !strings.HasPrefix(verified[0], cost+"$") {
				t.Errorf("%s: checked %d hashes (%q), want one with the cost of a real one (%s)", c.what, len(verified), verified, cost)
			}
		}
		verified = nil
		if _, err := login(dom, "ada", "ada's password", "192.0.2.5:1"); err != nil || len(verified) != 1 {
			t.Errorf("the right password: %v, %d hashes checked", err, len(verified))
		}
	})
}

func TestBoundedName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ada", "ada"},
		{"Zoë Ångström", "Zoë Ångström"},
		{"ada\x1b[31m\r\nadmin", `ada\x1b[31m\r\nadmin`},
		{"a\\x1b", `a\\x1b`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"rtl\u202eoverride", `rtl\u202eoverride`},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), strings.Repeat("a", 61) + "..."},
		{strings.Repeat("é", 40), strings.Repeat("é", 30) + "..."},
		{strings.Repeat("\x00", 100), strings.Repeat(`\x00`, 15) + "..."},
	} {
		got := BoundedName(c.in)
		if got != c.want {
			t.Errorf("BoundedName(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > 64 {
			t.Errorf("BoundedName(%q) is %d bytes", c.in, len(got))
		}
	}
	if got := BoundedName(strings.Repeat("x", 1<<20)); len(got) != 64 {
		t.Errorf("a megabyte name keeps %d bytes", len(got))
	}
}

func TestThrottleSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:5060":                "192.0.2.1",
		"192.0.2.1":                     "192.0.2.1",
		"[::ffff:192.0.2.1]:80":         "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:1":      "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1":              "fe80::/64",
		"":                              "unknown",
		"not an address":                "unknown",
		"@" + strings.Repeat("x", 1000): "unknown",
	} {
		if got := throttleSource(in); got != want {
			t.Errorf("throttleSource(%q) = %q, want %q", in, got, want)
		}
	}
}
