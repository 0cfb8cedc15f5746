package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/activator-voip/activator/internal/store"
	"github.com/activator-voip/activator/internal/store/storetest"
)

// Every binary column is a token's hash or is sealed with the secret key;
// a sealed one missing from SealedColumns would stay under the old key
// after `activator keys rotate`, unreadable with the new one.
func TestSealedColumnsNameEveryBinaryColumnThatIsNotAHash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		cols, err := s.BinaryColumns(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(cols) == 0 {
			t.Fatal("the schema walk found no binary column at all")
		}
		var listed []string
		for _, c := range store.SealedColumns {
			listed = append(listed, c.Name())
		}
		for _, c := range cols {
			if strings.HasSuffix(c, "_hash") {
				continue
			}
			if !slices.Contains(listed, c) {
				t.Errorf("binary column %s is neither a hash nor in store.SealedColumns", c)
			}
		}
		for _, c := range listed {
			if !slices.Contains(cols, c) {
				t.Errorf("store.SealedColumns names %s, which the schema does not have", c)
			}
		}
	})
}

// Reseal changes every value it is given, and a failure on one value
// leaves the transaction to roll back with nothing written.
func TestResealIsAllOrNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		err := s.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.PutServerSecret(ctx, "a", []byte("old-a")); err != nil {
				return err
			}
			return tx.PutServerSecret(ctx, "b", []byte("old-b"))
		})
		if err != nil {
			t.Fatal(err)
		}
		broken := errors.New("cannot open")
		err = s.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Reseal(ctx, func(v []byte) ([]byte, error) {
				if bytes.Equal(v, []byte("old-b")) {
					return nil, broken
				}
				return append([]byte("new-"), v...), nil
			}, nil)
			return err
		})
		if !errors.Is(err, broken) {
			t.Fatalf("Reseal error = %v, want the reseal function's", err)
		}
		if v, _ := s.ServerSecret(ctx, "a"); string(v) != "old-a" {
			t.Fatalf("after a failed reseal, a = %q, want it unchanged", v)
		}
		var seen []string
		err = s.Tx(ctx, func(tx *store.Tx) error {
			n, err := tx.Reseal(ctx, func(v []byte) ([]byte, error) { return append([]byte("new-"), v...), nil },
				func(column string, done, total int) { seen = append(seen, column) })
			if err == nil && n != 2 {
				t.Errorf("Reseal changed %d values, want 2", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a", "b"} {
			if v, _ := s.ServerSecret(ctx, name); string(v) != "new-old-"+name {
				t.Errorf("after reseal, %s = %q", name, v)
			}
		}
		if !slices.Contains(seen, "server_secrets.value") {
			t.Errorf("progress never named server_secrets.value: %v", seen)
		}
	})
}
