package store

import (
	"context"
	"fmt"
	"time"
)

// SealedColumn is a column that holds values sealed with the secret key
// (secret.Box): what a rotation of that key must open and seal again.
type SealedColumn struct {
	Table, Column string
	Key           string // the column naming a row
}

// Name is table.column, as progress and errors show it.
func (c SealedColumn) Name() string { return c.Table + "." + c.Column }

// SealedColumns is every column sealed with the secret key. A test walks
// the schema and fails when a binary column that is not a hash is missing
// here, so a new sealed column cannot be forgotten by `keys rotate`.
var SealedColumns = []SealedColumn{
	{Table: "server_secrets", Column: "value", Key: "name"}, // the activation signing key and its chain
	{Table: "accounts", Column: "sip_password", Key: "id"},
	{Table: "gateways", Column: "settings", Key: "id"},
	{Table: "gateways", Column: "receipt_key", Key: "id"},
	{Table: "messages", Column: "sealed_text", Key: "id"},
	{Table: "outbox", Column: "sealed_text", Key: "id"},
}

// ResealProgress is told, for each column, how many values it holds and,
// as they are written, how many are done.
type ResealProgress func(column string, done, total int)

// progressStep is how many values pass between two progress calls.
const progressStep = 1000

// Reseal replaces every sealed value in the database with reseal(value),
// column by column, in this transaction: a failure of reseal (a value the
// old key cannot open) leaves the caller's transaction to roll back, and
// nothing is written. It returns how many values it changed.
func (tx *Tx) Reseal(ctx context.Context, reseal func(sealed []byte) ([]byte, error), progress ResealProgress) (int, error) {
	total := 0
	for _, c := range SealedColumns {
		n, err := tx.resealColumn(ctx, c, reseal, progress)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

type sealedValue struct {
	key   any
	value []byte
}

func (tx *Tx) resealColumn(ctx context.Context, c SealedColumn, reseal func([]byte) ([]byte, error), progress ResealProgress) (int, error) {
	// Read the whole column first: one connection cannot write while a
	// result set is open on it. Sealed values are small (a password, a
	// gateway's settings, a queued message's text).
	rows, err := tx.q.QueryContext(ctx, `SELECT `+c.Key+`, `+c.Column+` FROM `+c.Table+` WHERE `+c.Column+` IS NOT NULL ORDER BY `+c.Key)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", c.Name(), err)
	}
	var vals []sealedValue
	for rows.Next() {
		var v sealedValue
		if c.Key == "name" {
			var s string
			err = rows.Scan(&s, &v.value)
			v.key = s
		} else {
			var id int64
			err = rows.Scan(&id, &v.value)
			v.key = id
		}
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("reading %s: %w", c.Name(), err)
		}
		vals = append(vals, v)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("reading %s: %w", c.Name(), err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reading %s: %w", c.Name(), err)
	}
	if progress != nil {
		progress(c.Name(), 0, len(vals))
	}
	for i, v := range vals {
		sealed, err := reseal(v.value)
		if err != nil {
			return i, fmt.Errorf("%s of row %v: %w", c.Name(), v.key, err)
		}
		if err := tx.execOne(ctx, `UPDATE `+c.Table+` SET `+c.Column+` = $1 WHERE `+c.Key+` = $2`, sealed, v.key); err != nil {
			return i, fmt.Errorf("writing %s of row %v: %w", c.Name(), v.key, err)
		}
		if progress != nil && ((i+1)%progressStep == 0 || i+1 == len(vals)) {
			progress(c.Name(), i+1, len(vals))
		}
	}
	return len(vals), nil
}

// PutServerSecret stores a sealed server-wide secret, replacing the one of
// that name.
func (tx *Tx) PutServerSecret(ctx context.Context, name string, value []byte) error {
	_, err := tx.exec(ctx, `INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value, ms(time.Now()))
	return err
}
