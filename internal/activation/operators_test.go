package activation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func TestPasswordHashing(t *testing.T) {
	h := HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string with the chosen parameters", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Fatal("the right password does not match")
	}
	for _, wrong := range []string{"correct horse batterY", "", "correct horse battery "} {
		if CheckPassword(h, wrong) {
			t.Errorf("%q matches", wrong)
		}
	}
	if h1, h2 := HashPassword("x"), HashPassword("x"); h1 == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$AA$AA", strings.Replace(h, "m=19456", "m=999999999", 1)} {
		if CheckPassword(bad, "x") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

// setPasswordToken pulls the token out of a set-password URL.
func setPasswordToken(t *testing.T, u string) string {
	t.Helper()
	i := strings.Index(u, "/console/set-password/")
	if i < 0 {
		t.Fatalf("no set-password path in %q", u)
	}
	return u[i+len("/console/set-password/"):]
}

func TestOperatorLifecycleAndLockout(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		now := time.Now()
		setNow(dom, func() time.Time { return now })
		created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("ada"), Role: new(model.RoleCSR)}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if created.Operator.HasPassword || !strings.HasPrefix(created.SetPasswordURL, "http://127.0.0.1:8080/console/set-password/avp_") {
			t.Fatalf("created = %+v", created)
		}
		if _, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("bob"), Role: new(model.Role("root"))}, admin); fieldOf(err) != "role" {
			t.Fatalf("unknown role: want an error on role, got %v", err)
		}
		if _, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("ada")}, admin); fieldOf(err) != "name" {
			t.Fatalf("duplicate name: want an error on name, got %v", err)
		}
		tok := setPasswordToken(t, created.SetPasswordURL)
		if _, err := dom.Access.Login(ctx, model.DefaultOrgID, "ada", ""); !errors.Is(err, ErrLogin) {
			t.Fatalf("login before a password is set: %v", err)
		}
		if _, err := dom.Access.SetPassword(ctx, tok, "short"); fieldOf(err) != "password" {
			t.Fatalf("short password: want an error on password, got %v", err)
		}
		l, err := dom.Access.SetPassword(ctx, tok, "a long enough password")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Access.SetPassword(ctx, tok, "another long password"); !errors.Is(err, ErrPasswordLink) {
			t.Fatalf("the link worked twice: %v", err)
		}
		sess, err := dom.Access.Session(ctx, l.Token)
		if err != nil || sess.Caller.Name != "ada" || sess.Caller.Role != model.RoleCSR || sess.CSRF != l.CSRF || sess.Caller.OperatorID == 0 ||
			sess.Caller.OrgID != model.DefaultOrgID || l.Caller != sess.Caller {
			t.Fatalf("Session = %+v, %v", sess, err)
		}
		if err := dom.Access.Logout(ctx, l.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Access.Session(ctx, l.Token); !errors.Is(err, ErrNoSession) {
			t.Fatalf("a logged-out session still works: %v", err)
		}

		// Lockout: MaxLoginFailures wrong passwords lock even the right one out.
		for i := 1; i <= MaxLoginFailures; i++ {
			_, err := dom.Access.Login(ctx, model.DefaultOrgID, "ada", "wrong password")
			want := ErrLogin
			if i == MaxLoginFailures {
				want = ErrLocked
			}
			if !errors.Is(err, want) {
				t.Fatalf("failure %d: got %v, want %v", i, err, want)
			}
		}
		if _, err := dom.Access.Login(ctx, model.DefaultOrgID, "ada", "a long enough password"); !errors.Is(err, ErrLocked) {
			t.Fatalf("the right password during the lock: got %v, want locked", err)
		}
		now = now.Add(LockoutDuration + time.Second)
		l, err = dom.Access.Login(ctx, model.DefaultOrgID, "ada", "a long enough password")
		if err != nil {
			t.Fatalf("the right password after the lock: %v", err)
		}
		if _, err := dom.Access.Login(ctx, model.DefaultOrgID, "nobody", "whatever"); !errors.Is(err, ErrLogin) {
			t.Fatalf("unknown operator: %v", err)
		}

		// Disabling ends sessions and stops tokens.
		tc, err := dom.Operators.CreateToken(ctx, model.TokenInput{Name: "laptop", Operator: "ada"}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := dom.Access.Authenticate(ctx, tc.Token); err != nil || c.Name != "ada" || c.Role != model.RoleCSR || c.OrgID != model.DefaultOrgID {
			t.Fatalf("operator token authenticates as %+v, %v", c, err)
		}
		if _, err := dom.Operators.SetDisabled(ctx, "ada", true, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Access.Session(ctx, l.Token); !errors.Is(err, ErrNoSession) {
			t.Fatalf("a disabled operator's session still works: %v", err)
		}
		if _, err := dom.Access.Authenticate(ctx, tc.Token); err == nil {
			t.Fatal("a disabled operator's token still authenticates")
		}
		ops, _ := dom.Operators.List(ctx, admin)
		if len(ops) != 1 || !ops[0].Disabled {
			t.Fatalf("operators = %+v", ops)
		}
	})
}
