package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

func addOperator(t *testing.T, s *store.Store, name string, role model.Role) *store.Operator {
	t.Helper()
	ctx := context.Background()
	o := &store.Operator{OrgID: org, Name: name, Role: role, PasswordHash: "$argon2id$x"}
	if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateOperator(ctx, o) }); err != nil {
		t.Fatalf("creating operator: %v", err)
	}
	return o
}

func TestOperatorsHaveUniqueNamesAndALastLogin(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		o := addOperator(t, s, "ada", model.RoleCSR)
		err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.CreateOperator(ctx, &store.Operator{OrgID: org, Name: "ada", Role: model.RoleAdmin})
		})
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Column != "name" {
			t.Fatalf("duplicate operator name: want a conflict on name, got %v", err)
		}
		at := time.Now().UTC().Truncate(time.Millisecond)
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.RecordLogin(ctx, o.ID, at) }); err != nil {
			t.Fatal(err)
		}
		got, _ := s.OperatorByName(ctx, org, "ada")
		if got.LastLoginAt == nil || !got.LastLoginAt.Equal(at) {
			t.Fatalf("after a login: %+v, want the login time %v", got, at)
		}
	})
}

// Ending an operator's access ends every session and revokes every live
// API token of theirs but the one kept, and nobody else's.
func TestEndingAnOperatorsAccessKeepsOnlyTheOneNamed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		ada, bob := addOperator(t, s, "ada", "admin"), addOperator(t, s, "bob", "csr")
		now := time.Now().UTC().Truncate(time.Millisecond)
		session := func(o *store.Operator) (int64, []byte) {
			_, hash := secret.NewToken("avs_")
			sess := &store.Session{OperatorID: o.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateSession(ctx, sess, hash) }); err != nil {
				t.Fatal(err)
			}
			return sess.ID, hash
		}
		token := func(o *store.Operator) (int64, []byte) {
			tok, hash := secret.NewToken(secret.PrefixAPIToken)
			var id int64
			if err := s.Tx(ctx, func(tx *store.Tx) error {
				var err error
				id, err = tx.CreateOperatorToken(ctx, org, o.ID, "t", o.Role, secret.Display(tok), hash)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return id, hash
		}
		keptS, keptSH := session(ada)
		_, goneSH := session(ada)
		_, bobSH := session(bob)
		keptT, keptTH := token(ada)
		_, goneTH := token(ada)
		_, bobTH := token(bob)
		if owner, err := s.APITokenOwner(ctx, keptTH); err != nil || owner.ID != keptT {
			t.Fatalf("APITokenOwner = %+v, %v: want the token's id %d", owner, err, keptT)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.DeleteOperatorSessions(ctx, ada.ID, keptS); err != nil {
				return err
			}
			return tx.RevokeOperatorTokens(ctx, ada.ID, keptT, now)
		}); err != nil {
			t.Fatal(err)
		}
		for what, c := range map[string]struct {
			hash []byte
			want bool
		}{"the kept session": {keptSH, true}, "another session": {goneSH, false}, "someone else's session": {bobSH, true}} {
			if _, _, err := s.SessionByHash(ctx, c.hash, now); (err == nil) != c.want {
				t.Errorf("%s: found %v, want %v (%v)", what, err == nil, c.want, err)
			}
		}
		for what, c := range map[string]struct {
			hash []byte
			want bool
		}{"the kept token": {keptTH, true}, "another token": {goneTH, false}, "someone else's token": {bobTH, true}} {
			if _, err := s.APITokenOwner(ctx, c.hash); (err == nil) != c.want {
				t.Errorf("%s: live %v, want %v (%v)", what, err == nil, c.want, err)
			}
		}
		list, _ := s.OperatorTokens(ctx, org, ada.ID)
		for _, tk := range list {
			if (tk.RevokedAt != nil) != (tk.ID != keptT) || (tk.RevokedAt != nil && !tk.RevokedAt.Equal(now)) {
				t.Errorf("token %d revoked at %v", tk.ID, tk.RevokedAt)
			}
		}
		// Keeping none (0) ends all.
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.DeleteOperatorSessions(ctx, ada.ID, 0); err != nil {
				return err
			}
			return tx.RevokeOperatorTokens(ctx, ada.ID, 0, now)
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByHash(ctx, keptSH, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the last session: %v", err)
		}
		if _, err := s.APITokenOwner(ctx, keptTH); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the last token: %v", err)
		}
	})
}

func TestSessionsExpireAndEndWithTheirOperator(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		o := addOperator(t, s, "ada", model.RoleAdmin)
		now := time.Now()
		tok, hash := secret.NewToken("avs_")
		sess := &store.Session{OperatorID: o.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateSession(ctx, sess, hash) }); err != nil {
			t.Fatal(err)
		}
		got, op, err := s.SessionByHash(ctx, secret.Hash(tok), now)
		if err != nil || got.ID != sess.ID || op.Name != "ada" || got.CSRFToken != "c" {
			t.Fatalf("SessionByHash = %+v, %+v, %v", got, op, err)
		}
		if _, _, err := s.SessionByHash(ctx, hash, now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an expired session was found: %v", err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteOperatorSessions(ctx, o.ID, 0) }); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByHash(ctx, hash, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a deleted session was found: %v", err)
		}
	})
}

func TestPasswordTokensAreUsedOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		o := addOperator(t, s, "ada", model.RoleAdmin)
		now := time.Now()
		_, hash := secret.NewToken("avp_")
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.CreatePasswordToken(ctx, o.ID, hash, now, now.Add(time.Hour))
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PasswordTokenOperator(ctx, hash, now); err != nil || got.ID != o.ID {
			t.Fatalf("PasswordTokenOperator = %v, %v", got, err)
		}
		use := func() error {
			return s.Tx(ctx, func(tx *store.Tx) error { return tx.UsePasswordToken(ctx, hash, now) })
		}
		if err := use(); err != nil {
			t.Fatalf("first use: %v", err)
		}
		if err := use(); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second use: want not found, got %v", err)
		}
		if _, err := s.PasswordTokenOperator(ctx, hash, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a used link still finds its operator: %v", err)
		}
	})
}

func TestOperatorTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		ada := addOperator(t, s, "ada", model.RoleCSR)
		bob := addOperator(t, s, "bob", model.RoleAdmin)
		tok, hash := secret.NewToken(secret.PrefixAPIToken)
		var id int64
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			var err error
			id, err = tx.CreateOperatorToken(ctx, org, ada.ID, "laptop", model.RoleCSR, secret.Display(tok), hash)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		owner, err := s.APITokenOwner(ctx, secret.Hash(tok))
		if err != nil || owner.OrgID != org || owner.OperatorID != ada.ID || owner.OperatorName != "ada" || owner.Role != model.RoleCSR || owner.OperatorDisabled {
			t.Fatalf("APITokenOwner = %+v, %v", owner, err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetOperatorDisabled(ctx, ada.ID, true) }); err != nil {
			t.Fatal(err)
		}
		if owner, _ := s.APITokenOwner(ctx, hash); !owner.OperatorDisabled {
			t.Fatal("the token of a disabled operator does not say so")
		}
		list, err := s.OperatorTokens(ctx, org, ada.ID)
		if err != nil || len(list) != 1 || list[0].Operator != "ada" || list[0].Prefix != secret.Display(tok) {
			t.Fatalf("OperatorTokens = %+v, %v", list, err)
		}
		// Bob cannot revoke Ada's token as its owner; an admin (operator 0) can.
		err = s.Tx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIToken(ctx, org, id, bob.ID) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoking someone else's token as its owner: want not found, got %v", err)
		}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIToken(ctx, org, id, 0) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APITokenOwner(ctx, hash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a revoked token still authenticates: %v", err)
		}
	})
}

func TestAuditLogFilters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		for i := 0; i < 5; i++ {
			e := &store.AuditEntry{Actor: fmt.Sprintf("op%d", i%2), ActorRole: model.RoleAdmin, Via: "api", Action: "POST /api/v1/accounts",
				Target: fmt.Sprintf("account:%d", i), Status: 201, After: `{"x":1}`}
			if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.AddAudit(ctx, org, e) }); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.Audit(ctx, org, store.AuditFilter{})
		if err != nil || len(all) != 5 || all[0].Target != "account:4" || all[0].After != `{"x":1}` || all[0].Status != 201 {
			t.Fatalf("Audit = %+v, %v", all, err)
		}
		mine, _ := s.Audit(ctx, org, store.AuditFilter{Actor: "op1"})
		if len(mine) != 2 {
			t.Fatalf("op1 has %d entries, want 2", len(mine))
		}
		page, _ := s.Audit(ctx, org, store.AuditFilter{BeforeID: all[1].ID, Limit: 2})
		if len(page) != 2 || page[0].ID != all[2].ID {
			t.Fatalf("paging: %+v", page)
		}
	})
}

func TestInsertAccountsInBulk(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := seed(t, s)
		var rows []*store.AccountRow
		for i := 0; i < 1234; i++ {
			rows = append(rows, &store.AccountRow{OrgID: org, Account: model.Account{
				GroupID: first.GroupID, Username: fmt.Sprintf("9%09d", i), DisplayName: fmt.Sprintf("User %d", i),
				Mobile: fmt.Sprintf("+3933300%05d", i), SecurityModel: model.EndToEnd, VirtualNumber: fmt.Sprintf("2%05d", i),
				Kind: "wizard", Stage: model.StageNew,
			}})
		}
		err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.InsertAccounts(ctx, rows, "importer", func(*store.AccountRow) string { return `{"via":"import"}` })
		})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := s.AccountKeys(ctx, org)
		if err != nil || len(keys) != 1235 {
			t.Fatalf("AccountKeys: %d keys, %v", len(keys), err)
		}
		got, err := s.AccountByUsername(ctx, org, rows[1000].Username)
		if err != nil || got.ID != rows[1000].ID || got.DisplayName != "User 1000" {
			t.Fatalf("row 1000: %+v, %v (want id %d)", got, err, rows[1000].ID)
		}
		ev, err := s.Events(ctx, got.ID)
		if err != nil || len(ev) != 1 || ev[0].Kind != "created" || ev[0].Detail["via"] != "import" {
			t.Fatalf("events: %+v, %v", ev, err)
		}
		// A duplicate in a later batch fails the whole transaction.
		dup := *rows[0]
		err = s.Tx(ctx, func(tx *store.Tx) error {
			return tx.InsertAccounts(ctx, []*store.AccountRow{&dup}, "importer", func(*store.AccountRow) string { return "" })
		})
		var ce *store.ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("duplicate username: want a conflict, got %v", err)
		}
	})
}

func TestImportsProgress(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		im := &store.Import{Operator: "ada", FileName: "a.csv", Content: "full name\nAda\n", State: model.ImportPreviewed, Total: 1}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.CreateImport(ctx, org, im) }); err != nil {
			t.Fatal(err)
		}
		var moved, again bool
		if err := s.Tx(ctx, func(tx *store.Tx) error {
			var err error
			moved, err = tx.SetImportState(ctx, im.ID, model.ImportImporting, model.ImportPreviewed)
			if err != nil {
				return err
			}
			again, err = tx.SetImportState(ctx, im.ID, model.ImportImporting, model.ImportPreviewed)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !moved || again {
			t.Fatalf("confirming twice: first %v, second %v; want true, false", moved, again)
		}
		im.State, im.Done, im.Created = model.ImportDone, 1, 1
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.SetImportProgress(ctx, im) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.ImportByID(ctx, org, im.ID)
		if err != nil || got.State != model.ImportDone || got.Created != 1 || got.Content != im.Content {
			t.Fatalf("ImportByID = %+v, %v", got, err)
		}
		list, err := s.Imports(ctx, org, 10)
		if err != nil || len(list) != 1 || list[0].Content != "" {
			t.Fatalf("Imports = %+v, %v (the listing must not carry the file)", list, err)
		}
	})
}
