package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// The audit log is append-only in the database itself, on both engines:
// an entry keeps its source address and credential, and any UPDATE or
// DELETE of it (TRUNCATE too, on PostgreSQL) is refused, whoever asks.
func TestAuditLogIsAppendOnly(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed(t, s)
		e := &store.AuditEntry{Actor: "ada", ActorRole: model.RoleAdmin, Via: "api", Action: "DELETE /api/v1/accounts/{username}",
			Target: "account:1234567890", Status: 204, Source: "192.0.2.7", Credential: "api token 3"}
		if err := s.Tx(ctx, func(tx *store.Tx) error { return tx.AddAudit(ctx, org, e) }); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`UPDATE audit_log SET actor = 'mallory'`,
			`UPDATE audit_log SET status = 200 WHERE id = $1`,
			`DELETE FROM audit_log WHERE id = $1`,
			`DELETE FROM audit_log`,
			`TRUNCATE audit_log`, // PostgreSQL's; SQLite has no TRUNCATE and reads it as an error too
		} {
			err := s.Tx(ctx, func(tx *store.Tx) error {
				var args []any
				if strings.Contains(q, "$1") {
					args = append(args, e.ID)
				}
				_, err := tx.ExecRaw(ctx, q, args...)
				return err
			})
			if err == nil {
				t.Errorf("%s: done, want a refusal", q)
			} else if (s.Dialect() == store.Postgres || !strings.HasPrefix(q, "TRUNCATE")) && !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: refused with %v, want the append-only trigger's words", q, err)
			}
		}
		got, err := s.Audit(ctx, org, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Actor != "ada" || got[0].Status != 204 || got[0].Source != "192.0.2.7" || got[0].Credential != "api token 3" || !got[0].At.Equal(e.At) {
			t.Fatalf("the audit log after the refused changes: %+v", got)
		}
	})
}
