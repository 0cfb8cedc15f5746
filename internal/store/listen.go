package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MessageListener hears, on a PostgreSQL connection of its own, the
// MessagesChannel notifications of every instance's queued messages, so a
// delivery worker can sleep until there is something to do.
type MessageListener struct{ conn *pgx.Conn }

// ListenMessages opens a listener. On SQLite it returns nil and no error:
// one process owns the database, and its worker is woken in process.
func (s *Store) ListenMessages(ctx context.Context) (*MessageListener, error) {
	if s.dialect != Postgres {
		return nil, nil
	}
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return nil, fmt.Errorf("connecting to listen for queued messages: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+MessagesChannel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("listening for queued messages: %w", err)
	}
	return &MessageListener{conn: conn}, nil
}

// Wait blocks until a notification arrives or ctx ends. After an error
// the listener is spent: close it and open another.
func (l *MessageListener) Wait(ctx context.Context) error {
	if _, err := l.conn.WaitForNotification(ctx); err != nil {
		return fmt.Errorf("waiting for queued messages: %w", err)
	}
	return nil
}

// Close ends the listener's connection.
func (l *MessageListener) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return l.conn.Close(ctx)
}
