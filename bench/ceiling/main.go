// Command ceiling is what bench/run.sh measures activator against: the
// least a server can do for the same request on the same database engine,
// with the same durability settings activator uses.
//
//	ceiling serve  --database DSN --ready-file F [--page-bytes N]   GET /a/{token}: one indexed SELECT and an html/template;
//	                                                               POST /api/v1/device/activate: one UPDATE by token hash,
//	                                                               a random password and a JSON answer
//	ceiling seed   --database DSN --count N --out FILE              N fresh links (invitations) for the redeem ceiling
//	ceiling import --database DSN --file F.csv --group G            the CSV's rows as raw batched INSERTs into accounts
//
// It reads and writes activator's own tables, so indexes, row sizes and
// the engine's work per row are the same as activator's.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"fmt"
	"log"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("ceiling: ")
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ceiling serve|seed|import [flags]  (ceiling CMD -h for each one's flags)")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{"serve": runServe, "seed": runSeed, "import": runImport}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "ceiling: unknown command %q: want serve, seed or import\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		log.Fatal(err)
	}
}

// database is an engine opened the way activator's store opens it.
type database struct {
	*sql.DB
	postgres bool
	writeMu  *sync.Mutex // SQLite: one writer at a time, queued in Go, as activator does
}

func open(ctx context.Context, dsn string) (*database, error) {
	d := &database{}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		d.postgres = true
		if d.DB, err = sql.Open("pgx", dsn); err != nil {
			return nil, err
		}
		d.SetMaxOpenConns(20)
		d.SetMaxIdleConns(20)
	} else {
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		if d.DB, err = sql.Open("sqlite", "file:"+dsn+"?"+q.Encode()); err != nil {
			return nil, err
		}
		d.SetMaxOpenConns(8)
		d.SetMaxIdleConns(8)
		d.writeMu = &sync.Mutex{}
	}
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connecting to %s: %w", dsn, err)
	}
	return d, nil
}

// write runs fn holding SQLite's writer lock.
func (d *database) write(fn func() error) error {
	if d.writeMu != nil {
		d.writeMu.Lock()
		defer d.writeMu.Unlock()
	}
	return fn()
}

// values writes rows of n placeholders each: anonymous on SQLite (it looks
// $n up linearly), numbered on PostgreSQL.
func (d *database) values(rows, n int) string {
	var sb strings.Builder
	k := 0
	for r := range rows {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for i := range n {
			if i > 0 {
				sb.WriteString(", ")
			}
			k++
			if d.postgres {
				sb.WriteString("$" + strconv.Itoa(k))
			} else {
				sb.WriteByte('?')
			}
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// token is a random secret of 160 bits with prefix, like activator's, and
// its SHA-256.
func token(prefix string) (string, []byte) {
	b := make([]byte, 20)
	rand.Read(b)
	t := prefix + strings.ToLower(b32.EncodeToString(b))
	h := sha256.Sum256([]byte(t))
	return t, h[:]
}
