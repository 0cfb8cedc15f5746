package store

import (
	"context"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// EnsureOrganisation creates the organisation with id if it does not exist
// and reports whether it did.
func (tx *Tx) EnsureOrganisation(ctx context.Context, id int64, name string) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
		id, name, ms(time.Now()))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ServerSecret returns a sealed server-wide secret by name.
func (r *Reader) ServerSecret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := r.q.QueryRowContext(ctx, `SELECT value FROM server_secrets WHERE name = $1`, name).Scan(&v)
	return v, mapErr(err)
}

// PutServerSecretIfAbsent stores a sealed secret unless one exists; it
// reports whether this call stored it, so racing instances agree on one.
func (tx *Tx) PutServerSecretIfAbsent(ctx context.Context, name string, value []byte) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		name, value, ms(time.Now()))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// APIToken is an API token's stored facts; never the token itself.
type APIToken struct {
	ID        int64
	OrgID     int64
	Name      string
	Role      model.Role
	Prefix    string
	CreatedAt time.Time
}
