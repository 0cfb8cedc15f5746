// Package kamailio is the account backend that keeps a Kamailio
// database's subscriber table in step with activator's accounts, for
// installations where Kamailio is the SIP server.
package kamailio

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for Kamailio on PostgreSQL
	_ "modernc.org/sqlite"             // the "sqlite" driver, for Kamailio on SQLite

	"github.com/activator-voip/activator/internal/activation"
)

// Backend keeps the subscriber table of a Kamailio database in step
// (auth_db: username, domain, ha1, ha1b), on PostgreSQL or SQLite. Kamailio
// reads that table on every authentication, so a change takes effect at
// the next REGISTER without restarting it.
type Backend struct {
	db       *sql.DB
	postgres bool
}

// Open connects to Kamailio's database: a postgres:// URL, or an
// SQLite file as sqlite:///path/kamailio.sqlite or a plain path.
func Open(ctx context.Context, dsn string) (*Backend, error) {
	k := &Backend{}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		k.postgres = true
		k.db, err = sql.Open("pgx", dsn)
	default:
		path := strings.TrimPrefix(dsn, "sqlite://")
		if path == "" {
			return nil, errors.New("kamailio database: no path")
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		k.db, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err == nil {
			k.db.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening the kamailio database: %w", err)
	}
	var n int
	if err := k.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriber`).Scan(&n); err != nil {
		k.db.Close()
		return nil, fmt.Errorf("kamailio database: reading its subscriber table (create it with kamailio's auth_db-create.sql): %w", err)
	}
	return k, nil
}

// Close closes the connection.
func (k *Backend) Close() error { return k.db.Close() }

// Name implements activation.AccountBackend.
func (k *Backend) Name() string { return "kamailio" }

// Put implements activation.AccountBackend: one subscriber row per account,
// replaced in place. The plain password column stays empty.
//
// It is one INSERT ... ON CONFLICT DO UPDATE on the subscriber table's
// unique (username, domain) (subscriber_account_idx in Kamailio's
// auth_db schema): two writes for one account at once (two activator
// instances, a redeem beside a re-provisioning) both land, where an
// UPDATE followed by an INSERT let both find no row and the second INSERT
// fail on that constraint.
func (k *Backend) Put(ctx context.Context, s activation.SIPSubscriber) error {
	if _, err := k.db.ExecContext(ctx, `INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ($1, $2, '', $3, $4)
		ON CONFLICT (username, domain) DO UPDATE SET ha1 = excluded.ha1, ha1b = excluded.ha1b, password = ''`,
		s.Username, s.Domain, s.HA1, s.HA1B); err != nil {
		return fmt.Errorf("kamailio: storing subscriber %s@%s: %w", s.Username, s.Domain, err)
	}
	return nil
}

// Remove implements activation.AccountBackend.
func (k *Backend) Remove(ctx context.Context, username, domain string) error {
	if _, err := k.db.ExecContext(ctx, `DELETE FROM subscriber WHERE username = $1 AND domain = $2`, username, domain); err != nil {
		return fmt.Errorf("kamailio: removing subscriber: %w", err)
	}
	return nil
}
