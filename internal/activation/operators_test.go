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

func TestOperatorLifecycle(t *testing.T) {
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
		if _, err := dom.Access.Login(ctx, model.DefaultOrgID, "ada", "", "192.0.2.1:40000"); !errors.Is(err, ErrLogin) {
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

		l, err = dom.Access.Login(ctx, model.DefaultOrgID, "ada", "a long enough password", "192.0.2.1:40000")
		if err != nil {
			t.Fatalf("the right password: %v", err)
		}
		if _, err := dom.Access.Login(ctx, model.DefaultOrgID, "nobody", "whatever", "192.0.2.1:40000"); !errors.Is(err, ErrLogin) {
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

// A new password, a reset, a new role and being disabled each end the
// operator's sessions and revoke their API tokens; an operator who resets
// their own password keeps the session or token they do it through.
func TestChangesEndTheOperatorsOtherAccess(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		root := withPassword(t, dom, "root", "admin", "the admin's password")
		s1 := withPassword(t, dom, "ada", "csr", "ada's first password")
		loginAda := func(password string) *Login {
			t.Helper()
			l, err := login(dom, "ada", password, "192.0.2.1:1")
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		token := func(op string) string {
			t.Helper()
			tc, err := dom.Operators.CreateToken(ctx, model.TokenInput{Name: "laptop", Operator: op}, admin)
			if err != nil {
				t.Fatal(err)
			}
			return tc.Token
		}
		live := func(what string, l *Login, want bool) {
			t.Helper()
			if _, err := dom.Access.Session(ctx, l.Token); (err == nil) != want {
				t.Errorf("%s: the session works: %v, want %v", what, err == nil, want)
			}
		}
		works := func(what, tok string, want bool) {
			t.Helper()
			if _, err := dom.Access.Authenticate(ctx, tok); (err == nil) != want {
				t.Errorf("%s: the API token works: %v, want %v", what, err == nil, want)
			}
		}

		s2, t1 := loginAda("ada's first password"), token("ada")
		reset, err := dom.Operators.ResetPassword(ctx, "ada", root.Caller)
		if err != nil {
			t.Fatal(err)
		}
		live("reset", s1, false)
		live("reset", s2, false)
		works("reset", t1, false)
		live("reset: the admin who did it", root, true)

		s3, t2 := loginAda("ada's first password"), token("ada") // the old password works until a new one is set
		s4, err := dom.Access.SetPassword(ctx, setPasswordToken(t, reset.SetPasswordURL), "ada's second password")
		if err != nil {
			t.Fatal(err)
		}
		live("new password", s3, false)
		works("new password", t2, false)
		live("new password: the session it starts", s4, true)

		s5, t3 := loginAda("ada's second password"), token("ada")
		if _, err := dom.Operators.Update(ctx, "ada", model.OperatorInput{Role: new(model.RoleAuditor)}, root.Caller); err != nil {
			t.Fatal(err)
		}
		live("new role", s4, false)
		live("new role", s5, false)
		works("new role", t3, false)
		s6 := loginAda("ada's second password")
		if _, err := dom.Operators.Update(ctx, "ada", model.OperatorInput{Role: new(model.RoleAuditor)}, root.Caller); err != nil {
			t.Fatal(err)
		}
		live("the same role again", s6, true)

		t4 := token("ada")
		if _, err := dom.Operators.SetDisabled(ctx, "ada", true, root.Caller); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Operators.SetDisabled(ctx, "ada", false, root.Caller); err != nil {
			t.Fatal(err)
		}
		live("disabled and enabled again", s6, false)
		works("disabled and enabled again", t4, false)

		// The admin resets their own password from a console session...
		other, err := login(dom, "root", "the admin's password", "192.0.2.2:1")
		if err != nil {
			t.Fatal(err)
		}
		tr1 := token("root")
		sess, err := dom.Access.Session(ctx, root.Token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Operators.ResetPassword(ctx, "root", sess.Caller); err != nil {
			t.Fatal(err)
		}
		live("own reset: the session that did it", root, true)
		live("own reset: another session", other, false)
		works("own reset", tr1, false)
		// ... and with an API token of their own.
		tr2, tr3 := token("root"), token("root")
		by, err := dom.Access.Authenticate(ctx, tr2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Operators.ResetPassword(ctx, "root", *by); err != nil {
			t.Fatal(err)
		}
		works("own reset by token: the token that did it", tr2, true)
		works("own reset by token: another token", tr3, false)
		live("own reset by token: a session", root, false)
	})
}
