package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// runSeed adds fresh activation links for existing accounts, one per
// account from the first, and writes their tokens: the redeem ceiling
// spends one per request, as activator's redeem does.
func runSeed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	var (
		dsn   = fs.String("database", "", "activator's database (required)")
		count = fs.Int("count", 10000, "links to add")
		out   = fs.String("out", "", "write the tokens here, one a line (required)")
	)
	fs.Parse(args)
	if *dsn == "" || *out == "" {
		return errors.New("seed needs --database and --out")
	}
	ctx := context.Background()
	db, err := open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT id FROM accounts ORDER BY id LIMIT $1`, *count)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) == 0 {
		return errors.New("the database has no account to give links to")
	}
	now := time.Now().UnixMilli()
	tokens := make([]string, 0, *count)
	const batch = 500
	for start := 0; start < *count; start += batch {
		n := min(batch, *count-start)
		var args []any
		for i := range n {
			t, h := token("avl_")
			tokens = append(tokens, t)
			args = append(args, ids[(start+i)%len(ids)], model.LinkActivation, model.ChannelEmail, h, t[:10]+"…", now, now+7*24*3600*1000)
		}
		q := `INSERT INTO invitations (account_id, kind, channel, token_hash, token_prefix, created_at, expires_at) VALUES ` + db.values(n, 7)
		if err := db.write(func() error { _, err := db.ExecContext(ctx, q, args...); return err }); err != nil {
			return fmt.Errorf("adding links: %w", err)
		}
	}
	return os.WriteFile(*out, []byte(strings.Join(tokens, "\n")+"\n"), 0o600)
}

// runImport is the import's ceiling: the CSV's rows, parsed, as multi-row
// INSERTs of 1,000 accounts, one transaction each, into a database
// activator's store made, with the usernames and virtual numbers simply
// counted up. No validation, no matching, no events: what is left is the
// engine's work for the rows.
func runImport(args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	var (
		dsn   = fs.String("database", "", "an empty database for activator (made and migrated by activator's store; required)")
		file  = fs.String("file", "", "the CSV file: activator's import columns (required)")
		group = fs.String("group", "bench", "group of the rows")
		out   = fs.String("out", "", "also write the result (JSON) to this file")
	)
	fs.Parse(args)
	if *dsn == "" || *file == "" {
		return errors.New("import needs --database and --file")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	var groupID int64
	err = st.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.EnsureOrganisation(ctx, model.DefaultOrgID, "default"); err != nil {
			return err
		}
		g := &store.GroupRow{Group: model.Group{Name: *group}}
		err := tx.CreateGroup(ctx, model.DefaultOrgID, g)
		groupID = g.ID
		return err
	})
	st.Close()
	if err != nil {
		return fmt.Errorf("preparing the database: %w", err)
	}
	db, err := open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()

	start := time.Now()
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil { // the header
		return fmt.Errorf("reading %s: %w", *file, err)
	}
	const batch = 1000
	const cols = 16
	var (
		vals []any
		n    int
	)
	flush := func() error {
		if len(vals) == 0 {
			return nil
		}
		q := `INSERT INTO accounts (org_id, group_id, username, display_name, email, mobile, security_model,
			profile_id, virtual_number, language, description, kind, stage, disabled, created_at, updated_at) VALUES ` + db.values(len(vals)/cols, cols)
		err := db.write(func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, q, vals...); err != nil {
				tx.Rollback()
				return err
			}
			return tx.Commit()
		})
		vals = vals[:0]
		return err
	}
	now := time.Now().UnixMilli()
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", *file, err)
		}
		for len(rec) < 8 {
			rec = append(rec, "")
		}
		sec := rec[3]
		if sec == "" {
			sec = string(model.EndToEnd)
		}
		vals = append(vals, model.DefaultOrgID, groupID, strconv.Itoa(1_000_000_000+n), rec[0], rec[2], rec[1], sec,
			nil, strconv.Itoa(1_000_000+n), rec[7], rec[4], "wizard", model.StageNew, false, now, now)
		n++
		if len(vals) == batch*cols {
			if err := flush(); err != nil {
				return fmt.Errorf("inserting: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("inserting: %w", err)
	}
	secs := time.Since(start).Seconds()
	b, _ := json.Marshal(map[string]any{"requests": n, "seconds": secs, "rate": float64(n) / secs})
	fmt.Println(string(b))
	if *out != "" {
		return os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	return nil
}
