package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// Import is an uploaded CSV file on its way into the accounts: previewed,
// then confirmed, imported and optionally sent, with its progress.
type Import struct {
	ID       int64
	Operator string
	FileName string
	// Content is the uploaded file, kept until the import is confirmed.
	Content string
	// SendTo are the usernames a confirmed import sends activations to, in
	// the file's order: what it keeps instead of the file while sending.
	SendTo    []string
	Options   string // JSON: group, profile, send channel
	State     model.ImportState
	Total     int
	Done      int
	Created   int
	ToSend    int
	Sent      int
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const importCols = `id, operator, file_name, content, send_to, options, state, total, done, created, to_send, sent, last_error, created_at, updated_at`

func scanImport(sc interface{ Scan(...any) error }) (*Import, error) {
	var (
		im               Import
		sendTo           string
		created, updated int64
	)
	if err := sc.Scan(&im.ID, &im.Operator, &im.FileName, &im.Content, &sendTo, &im.Options, &im.State, &im.Total, &im.Done, &im.Created,
		&im.ToSend, &im.Sent, &im.LastError, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	if sendTo != "" {
		im.SendTo = strings.Split(sendTo, "\n")
	}
	im.CreatedAt, im.UpdatedAt = fromMS(created), fromMS(updated)
	return &im, nil
}

// CreateImport stores an uploaded file awaiting confirmation.
func (tx *Tx) CreateImport(ctx context.Context, orgID int64, im *Import) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, err := tx.insertID(ctx, `INSERT INTO imports (org_id, operator, file_name, content, options, state, total, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, orgID, im.Operator, im.FileName, im.Content, im.Options, im.State, im.Total, ms(now))
	im.ID, im.CreatedAt, im.UpdatedAt = id, now, now
	return err
}

// ImportByID finds an import.
func (r *Reader) ImportByID(ctx context.Context, orgID, id int64) (*Import, error) {
	return scanImport(r.q.QueryRowContext(ctx, `SELECT `+importCols+` FROM imports WHERE org_id = $1 AND id = $2`, orgID, id))
}

// Imports lists recent imports, newest first, without their files.
func (r *Reader) Imports(ctx context.Context, orgID int64, limit int) ([]Import, error) {
	out, _, err := r.ImportsPage(ctx, orgID, Page{Limit: limit})
	return out, err
}

// ImportsPage lists one page of imports, newest first, without their
// files, and where the pages beside it start.
func (r *Reader) ImportsPage(ctx context.Context, orgID int64, p Page) ([]Import, PageInfo, error) {
	var a args
	where := "org_id = " + a.add(orgID)
	p.Offset = 0
	cond, tail := p.clause("id", a.add)
	if cond != "" {
		where += " AND " + cond
	}
	rows, err := r.q.QueryContext(ctx, `SELECT id, operator, file_name, '', '', options, state, total, done, created, to_send, sent, last_error, created_at, updated_at
		FROM imports WHERE `+where+tail, a...)
	if err != nil {
		return nil, PageInfo{}, fmt.Errorf("listing imports: %w", err)
	}
	defer rows.Close()
	out := []Import{}
	for rows.Next() {
		im, err := scanImport(rows)
		if err != nil {
			return nil, PageInfo{}, err
		}
		out = append(out, *im)
	}
	if err := rows.Err(); err != nil {
		return nil, PageInfo{}, fmt.Errorf("listing imports: %w", err)
	}
	out, info := finish(p, out, func(im Import) int64 { return im.ID })
	return out, info, nil
}

// SetImportState moves an import to state from one of the states in from;
// it reports false when the import was not in any of them (someone else
// moved it first).
func (tx *Tx) SetImportState(ctx context.Context, id int64, state model.ImportState, from ...model.ImportState) (bool, error) {
	q := `UPDATE imports SET state = $1, updated_at = $2 WHERE id = $3`
	args := []any{state, ms(time.Now()), id}
	if len(from) > 0 {
		ph := make([]string, len(from))
		for i, f := range from {
			args = append(args, f)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		q += ` AND state IN (` + strings.Join(ph, ", ") + `)`
	}
	res, err := tx.exec(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetImportProgress records how far an import has got.
func (tx *Tx) SetImportProgress(ctx context.Context, im *Import) error {
	return tx.execOne(ctx, `UPDATE imports SET state = $1, done = $2, created = $3, to_send = $4, sent = $5, last_error = $6, updated_at = $7
		WHERE id = $8`, im.State, im.Done, im.Created, im.ToSend, im.Sent, im.LastError, ms(time.Now()), im.ID)
}

// KeepImportSendTo forgets a confirmed import's file and keeps, instead,
// the usernames it is to send activations to (usernames hold no newline).
func (tx *Tx) KeepImportSendTo(ctx context.Context, id int64, usernames []string) error {
	return tx.execOne(ctx, `UPDATE imports SET content = '', send_to = $1 WHERE id = $2`, strings.Join(usernames, "\n"), id)
}

// DropImportContent forgets an import's file and its usernames to send to
// once they are no longer needed.
func (tx *Tx) DropImportContent(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, `UPDATE imports SET content = '', send_to = '' WHERE id = $1`, id)
	return err
}
