package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

// Import is an uploaded CSV file on its way into the accounts: previewed,
// then confirmed, imported and optionally sent, with its progress.
type Import struct {
	ID       int64
	OrgID    int64
	Operator string
	FileName string
	// Content is a file uploaded before files were kept in pieces
	// (ImportFile), kept until the import is confirmed.
	Content string
	// Pieces is how many pieces of its file the import keeps (ImportFile).
	Pieces int
	// SendTo are the usernames a confirmed import sends activations to, in
	// the file's order: what it keeps instead of the file while sending.
	SendTo  []string
	Options string // JSON: group, profile, send channel
	// Preview is the check's outcome as JSON: the preview, or the refusal.
	Preview   string
	Size      int64 // the file's bytes
	Checked   int64 // of them, how many the check has read
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

const importCols = `id, org_id, operator, file_name, content, send_to, options, state, total, done, created, to_send, sent, last_error, created_at, updated_at, preview, size, checked,
	(SELECT COUNT(*) FROM import_files f WHERE f.import_id = imports.id)`

func scanImport(sc interface{ Scan(...any) error }) (*Import, error) {
	var (
		im               Import
		sendTo           string
		created, updated int64
	)
	if err := sc.Scan(&im.ID, &im.OrgID, &im.Operator, &im.FileName, &im.Content, &sendTo, &im.Options, &im.State, &im.Total, &im.Done, &im.Created,
		&im.ToSend, &im.Sent, &im.LastError, &created, &updated, &im.Preview, &im.Size, &im.Checked, &im.Pieces); err != nil {
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
	im.Size = int64(len(im.Content))
	id, err := tx.insertID(ctx, `INSERT INTO imports (org_id, operator, file_name, content, options, state, total, created_at, updated_at, preview, size)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)`, orgID, im.Operator, im.FileName, im.Content, im.Options, im.State, im.Total, ms(now), im.Preview, im.Size)
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
	rows, err := r.q.QueryContext(ctx, `SELECT id, org_id, operator, file_name, '', '', options, state, total, done, created, to_send, sent, last_error, created_at, updated_at, '', size, checked, 0
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
	if _, err := tx.exec(ctx, `DELETE FROM import_files WHERE import_id = $1`, id); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `UPDATE imports SET content = '', send_to = '' WHERE id = $1`, id)
	return err
}

// AddImportFilePiece keeps piece seq (from 0) of an import's file and
// counts its bytes in the import's size.
func (tx *Tx) AddImportFilePiece(ctx context.Context, id int64, seq int, data string) error {
	if _, err := tx.exec(ctx, `INSERT INTO import_files (import_id, seq, data) VALUES ($1, $2, $3)`, id, seq, data); err != nil {
		return fmt.Errorf("keeping the import file: %w", err)
	}
	return tx.execOne(ctx, `UPDATE imports SET size = size + $1 WHERE id = $2`, len(data), id)
}

// ImportFilePiece reads piece seq of an import's file; false when it has
// no such piece (the file ended).
func (r *Reader) ImportFilePiece(ctx context.Context, id int64, seq int) (string, bool, error) {
	var data string
	err := r.q.QueryRowContext(ctx, `SELECT data FROM import_files WHERE import_id = $1 AND seq = $2`, id, seq).Scan(&data)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading the import file: %w", mapErr(err))
	}
	return data, true, nil
}

// ImportJob names an import whose work (model.ImportSending: its
// activations to send) an instance has claimed.
type ImportJob struct {
	ID, OrgID int64
	State     model.ImportState
}

// ClaimImportJob claims the oldest import in one of states that no live
// instance is working on: none holds it, its holder's lease ran out, or
// the holder is owner itself (an instance works on one job at a time and
// gives it back when it stops, so a claim of its own that it finds is one
// it made before it restarted). It reports false when there is none.
func (tx *Tx) ClaimImportJob(ctx context.Context, owner string, now time.Time, lease time.Duration, states ...model.ImportState) (*ImportJob, bool, error) {
	args := []any{ms(now), owner}
	ph := make([]string, len(states))
	for i, st := range states {
		args = append(args, st)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	free := `(job_until IS NULL OR job_until < $1 OR job_owner = $2) AND state IN (` + strings.Join(ph, ", ") + `)`
	var j ImportJob
	err := tx.q.QueryRowContext(ctx, `SELECT id, org_id, state FROM imports WHERE `+free+` ORDER BY id LIMIT 1`, args...).Scan(&j.ID, &j.OrgID, &j.State)
	if err != nil {
		if err = mapErr(err); err == ErrNotFound {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("finding an import job: %w", err)
	}
	args = append(args, owner, ms(now.Add(lease)), j.ID)
	n := len(args)
	res, err := tx.exec(ctx, fmt.Sprintf(`UPDATE imports SET job_owner = $%d, job_until = $%d WHERE id = $%d AND `, n-2, n-1, n)+free, args...)
	if err != nil {
		return nil, false, fmt.Errorf("claiming import %d: %w", j.ID, err)
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		return nil, false, err // another instance took it first
	}
	return &j, true, nil
}

// ClaimImport claims import id for owner until now+lease, as
// ClaimImportJob would (none holds it, its holder's lease ran out, or the
// holder is owner); it reports false when a live holder has it.
func (tx *Tx) ClaimImport(ctx context.Context, id int64, owner string, now time.Time, lease time.Duration) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE imports SET job_owner = $1, job_until = $2 WHERE id = $3 AND (job_until IS NULL OR job_until < $4 OR job_owner = $1)`,
		owner, ms(now.Add(lease)), id, ms(now))
	if err != nil {
		return false, fmt.Errorf("claiming import %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetImportBatch records how far owner's import of a file got and renews
// its lease, in the transaction that wrote the batch; false means the
// claim is no longer owner's (and the transaction is to be rolled back).
func (tx *Tx) SetImportBatch(ctx context.Context, im *Import, owner string, until time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE imports SET done = $1, created = $2, job_until = $3, updated_at = $4 WHERE id = $5 AND job_owner = $6`,
		im.Done, im.Created, ms(until), ms(time.Now()), im.ID, owner)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RenewImportJob moves the lease of owner's claim on an import to until;
// false means the claim is no longer owner's (its lease ran out and
// another instance took the job).
func (tx *Tx) RenewImportJob(ctx context.Context, id int64, owner string, until time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE imports SET job_until = $1 WHERE id = $2 AND job_owner = $3`, ms(until), id, owner)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseImportJob gives back owner's claim on an import.
func (tx *Tx) ReleaseImportJob(ctx context.Context, id int64, owner string) error {
	_, err := tx.exec(ctx, `UPDATE imports SET job_owner = '', job_until = NULL WHERE id = $1 AND job_owner = $2`, id, owner)
	return err
}

// SetImportChecked records how far owner's check of an import's file got
// (bytes read, rows seen) and renews its lease; false means the claim is
// no longer owner's.
func (tx *Tx) SetImportChecked(ctx context.Context, id int64, owner string, checked int64, rows int, until time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE imports SET checked = $1, total = $2, job_until = $3, updated_at = $4 WHERE id = $5 AND job_owner = $6 AND state = $7`,
		checked, rows, ms(until), ms(time.Now()), id, owner, model.ImportChecking)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FinishImportCheck records the outcome of owner's check of an import's
// file: state (previewed, or failed when the file was refused, its file
// then dropped), the rows, the preview or refusal as JSON and the
// refusal's message, and gives the job back. False means the claim is no
// longer owner's.
func (tx *Tx) FinishImportCheck(ctx context.Context, id int64, owner string, state model.ImportState, total int, preview, lastError string) (bool, error) {
	q := `UPDATE imports SET state = $1, total = $2, preview = $3, last_error = $4, checked = size, job_owner = '', job_until = NULL, updated_at = $5`
	if state != model.ImportPreviewed {
		q += `, content = ''`
		if _, err := tx.exec(ctx, `DELETE FROM import_files WHERE import_id = $1 AND EXISTS (SELECT 1 FROM imports WHERE id = $1 AND job_owner = $2)`, id, owner); err != nil {
			return false, err
		}
	}
	res, err := tx.exec(ctx, q+` WHERE id = $6 AND job_owner = $7 AND state = $8`, state, total, preview, lastError, ms(time.Now()), id, owner, model.ImportChecking)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
