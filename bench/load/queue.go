package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver
)

// queue waits until the delivery worker has carried every queued message
// of a gateway and reports its rate from the rows themselves: the span of
// their sent_at times, which the worker writes when the gateway took each.
// It only reads, once every 100 ms, so it costs the server next to nothing.

func runQueue(args []string) error {
	fs := flag.NewFlagSet("queue", flag.ExitOnError)
	var (
		dsn     = fs.String("database", "", "activator's database: SQLite file or postgres:// URL (required)")
		gateway = fs.String("gateway", "", "the gateway the queued messages go through (required)")
		count   = fs.Int64("count", 0, "how many messages were queued (required)")
		timeout = fs.Duration("timeout", 5*time.Minute, "give up after this long")
		out     = fs.String("out", "", "also write the result (JSON) to this file")
	)
	fs.Parse(args)
	if *dsn == "" || *gateway == "" || *count < 2 {
		return errors.New("queue needs --database, --gateway and --count of at least 2")
	}
	driver, name := "sqlite", "file:"+*dsn+"?_pragma=busy_timeout(10000)"
	if strings.HasPrefix(*dsn, "postgres://") || strings.HasPrefix(*dsn, "postgresql://") {
		driver, name = "pgx", *dsn
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	for {
		var done, failed int64
		err := db.QueryRowContext(ctx, `SELECT
			COUNT(CASE WHEN state IN ('sent', 'delivered') THEN 1 END),
			COUNT(CASE WHEN state = 'failed' OR attempts > 1 THEN 1 END)
			FROM messages WHERE gateway = $1`, *gateway).Scan(&done, &failed)
		if err != nil {
			return fmt.Errorf("reading the queue: %w", err)
		}
		if failed > 0 {
			var lastErr string
			db.QueryRowContext(ctx, `SELECT last_error FROM messages WHERE gateway = $1 AND last_error <> '' LIMIT 1`, *gateway).Scan(&lastErr)
			return fmt.Errorf("%d messages failed or were retried: %s", failed, lastErr)
		}
		if done >= *count {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d messages sent after %s", done, *count, time.Since(start).Round(time.Second))
		case <-time.After(100 * time.Millisecond):
		}
	}
	var first, last int64
	if err := db.QueryRowContext(ctx, `SELECT MIN(sent_at), MAX(sent_at) FROM messages WHERE gateway = $1`, *gateway).Scan(&first, &last); err != nil {
		return err
	}
	secs := float64(last-first) / 1000
	b, _ := json.Marshal(map[string]any{"requests": *count, "seconds": secs, "rate": float64(*count-1) / max(secs, 0.001)})
	fmt.Println(string(b))
	if *out != "" {
		return os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	return nil
}
