package activation

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
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
		created, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("ada"), Role: strp("csr")}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if created.Operator.HasPassword || !strings.HasPrefix(created.SetPasswordURL, "http://127.0.0.1:8080/console/set-password/avp_") {
			t.Fatalf("created = %+v", created)
		}
		if _, err := dom.Operators.Create(ctx, model.OperatorInput{Name: strp("bob"), Role: strp("root")}, admin); fieldOf(err) != "role" {
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
		if err != nil || sess.Caller.Name != "ada" || sess.Caller.Role != "csr" || sess.CSRF != l.CSRF || sess.Caller.OperatorID == 0 ||
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
		if c, err := dom.Access.Authenticate(ctx, tc.Token); err != nil || c.Name != "ada" || c.Role != "csr" || c.OrgID != model.DefaultOrgID {
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

func fieldOf(err error) string {
	var de *Error
	if errors.As(err, &de) {
		return de.Field
	}
	return fmt.Sprint("no field: ", err)
}

func TestRedactJSON(t *testing.T) {
	in := `{"token":"ava_abcdefghijklmnopqrstuvwxyz234567","api_token":{"prefix":"ava_abcdef…","token_prefix":"avl_x"},"set_password_url":"http://x/console/set-password/avp_x",
		"settings":{"password":"hunter2","api_key":"k","name":"ok"},"body":"open http://h/a/avl_abcdefghijklmnopqrstuvwxyz234567 now"}`
	out := RedactJSON([]byte(in))
	for _, leak := range []string{"hunter2", "ava_abcdefghijklmnopqrstuvwxyz234567", "avp_x", `"k"`, "avl_abcdefghijklmnopqrstuvwxyz234567"} {
		if strings.Contains(out, leak) {
			t.Errorf("redacted JSON still holds %q: %s", leak, out)
		}
	}
	for _, keep := range []string{`"name":"ok"`, `"token_prefix":"avl_x"`, "avl_abcdef…"} {
		if !strings.Contains(out, keep) {
			t.Errorf("redacted JSON lost %q: %s", keep, out)
		}
	}
}

func TestImportPreviewConfirmAndReimport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		file := "Full name;Mobile number;E-mail;Security model;Group;Language\n" +
			"Ada Lovelace;+39 333 123 4567;ada@example.com;end-to-site;;it\n" +
			"Bad Phone;12;;;;\n" +
			"Charles Babbage;;charles@example.com;;sales;\n" +
			"No Group;;x@example.com;;nowhere;\n" +
			";;y@example.com;sideways;;\n" +
			"Ada Again;+393331234567;;;;\n"
		p, err := dom.Imports.Preview(ctx, "people.csv", []byte(file), ImportOptions{Group: "sales", Send: ""}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 6 || p.Create != 2 || p.Exists != 1 || p.Invalid != 3 {
			t.Fatalf("preview counts: %+v", p)
		}
		cells := map[string]bool{}
		for _, e := range p.Errors {
			cells[fmt.Sprintf("%d:%s", e.Row, e.Column)] = true
		}
		for _, want := range []string{"3:mobile number", "5:group", "6:full name", "6:security model"} {
			if !cells[want] {
				t.Errorf("the preview does not name bad cell %s: %+v", want, p.Errors)
			}
		}
		if n, _ := dom.Accounts.List(ctx, "", "", "", 100, 0, admin); len(n) != 0 {
			t.Fatalf("the preview imported %d accounts", len(n))
		}
		stt, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stt.Created != 2 || stt.State != "done" {
			t.Fatalf("confirm: %+v", stt)
		}
		if _, err := dom.Imports.Confirm(ctx, p.ID, admin, nil); err == nil {
			t.Fatal("a finished import was imported again")
		}
		as, _ := dom.Accounts.List(ctx, "", "", "", 100, 0, admin)
		if len(as) != 2 {
			t.Fatalf("%d accounts after the import, want 2", len(as))
		}
		ada, _ := dom.Accounts.List(ctx, "", "", "ada@example.com", 10, 0, admin)
		if len(ada) != 1 || ada[0].Mobile != "+393331234567" || ada[0].SecurityModel != model.EndToSite || ada[0].Language != "it" || ada[0].Status != model.StageNew {
			t.Fatalf("Ada imported as %+v", ada)
		}

		// The console's security model filter.
		for m, want := range map[string]string{"end-to-site": "Ada Lovelace", "end-to-end": "Charles Babbage"} {
			got, err := dom.Accounts.ListOfModel(ctx, "sales", "new", "", m, 10, 0, admin)
			if err != nil || len(got) != 1 || got[0].DisplayName != want {
				t.Errorf("accounts of %s: %+v, %v", m, got, err)
			}
		}
		if _, err := dom.Accounts.ListOfModel(ctx, "", "", "", "sideways", 10, 0, admin); fieldOf(err) != "security_model" {
			t.Errorf("an unknown model: %v", err)
		}

		// The same file again, and the export of what is there: no duplicates.
		p2, err := dom.Imports.Preview(ctx, "people.csv", []byte(file), ImportOptions{Group: "sales"}, admin)
		if err != nil || p2.Create != 0 || p2.Exists != 3 {
			t.Fatalf("re-import preview: %+v, %v", p2, err)
		}
		var buf bytes.Buffer
		if err := dom.Accounts.Export(ctx, &buf, "", "", "", admin); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
		if err != nil || len(recs) != 3 || recs[0][0] != ColName || recs[0][len(recs[0])-3] != "status" {
			t.Fatalf("export: %v %v", recs, err)
		}
		p3, err := dom.Imports.Preview(ctx, "export.csv", buf.Bytes(), ImportOptions{}, admin)
		if err != nil || p3.Create != 0 || p3.Exists != 2 || p3.Invalid != 0 {
			t.Fatalf("importing the export: %+v, %v", p3, err)
		}
		if _, err := dom.Imports.Cancel(ctx, p3.ID, admin); err != nil {
			t.Fatal(err)
		}
		if _, err := dom.Imports.Confirm(ctx, p3.ID, admin, nil); err == nil {
			t.Fatal("a cancelled import was imported")
		}
	})
}

func TestImportThenSend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		var b strings.Builder
		b.WriteString("full name,e-mail\n")
		for i := 0; i < 7; i++ {
			fmt.Fprintf(&b, "User %d,user%d@example.com\n", i, i)
		}
		b.WriteString("No Mail,\n")
		p, err := dom.Imports.Preview(ctx, "", []byte(b.String()), ImportOptions{Group: "sales", Send: model.ChannelEmail}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if p.Invalid != 1 || p.Errors[0].Column != ColEmail {
			t.Fatalf("a row without e-mail must be bad when sending by e-mail: %+v", p)
		}
		stt, err := dom.Imports.Confirm(ctx, p.ID, admin, nil)
		if err != nil || stt.State != "sending" || stt.ToSend != 7 {
			t.Fatalf("confirm: %+v, %v", stt, err)
		}
		for i := 0; stt.State == "sending"; i++ {
			if i > 5 {
				t.Fatal("sending never finished")
			}
			if stt, err = dom.Imports.SendBatch(ctx, p.ID, 3, admin); err != nil {
				t.Fatal(err)
			}
		}
		if stt.Sent != 7 || stt.State != "done" {
			t.Fatalf("after sending: %+v", stt)
		}
		ms, _ := dom.Messages.List(ctx, "", "", 100, admin)
		if len(ms) != 7 {
			t.Fatalf("%d messages queued, want 7 (one per account, none twice)", len(ms))
		}
	})
}

// TestImportResumesAfterAnInterruption stops an import after its first
// batch (the request's context ends) and confirms it again: the rest is
// imported and nothing twice.
func TestImportResumesAfterAnInterruption(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, st *store.Store) {
		dom := newDomain(t, st)
		mustGroup(t, dom, "sales")
		const n = 2500
		var b strings.Builder
		b.WriteString("full name,mobile number\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "Person %d,+39333%07d\n", i, i)
		}
		p, err := dom.Imports.Preview(context.Background(), "big.csv", []byte(b.String()), ImportOptions{Group: "sales"}, admin)
		if err != nil || p.Create != n {
			t.Fatalf("preview: %+v %v", p, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		_, err = dom.Imports.Confirm(ctx, p.ID, admin, func(st model.ImportStatus) { cancel() })
		if err == nil {
			t.Fatal("the interrupted import did not fail")
		}
		stt, _ := dom.Imports.Status(context.Background(), p.ID, admin)
		if stt.State != "failed" || stt.Created != importBatch {
			t.Fatalf("after the interruption: %+v", stt)
		}
		stt, err = dom.Imports.Confirm(context.Background(), p.ID, admin, nil)
		if err != nil {
			t.Fatal(err)
		}
		if stt.State != "done" || stt.Created != n || stt.LastError != "" { // created counts both runs
			t.Fatalf("resumed: %+v", stt)
		}
		keys, _ := st.AccountKeys(context.Background(), model.DefaultOrgID)
		if len(keys) != n {
			t.Fatalf("%d accounts after the resumed import, want %d", len(keys), n)
		}
	})
}
