package store

import (
	"context"
	"fmt"
	"time"
)

// ExportJob is an export run as a job: what it exports (Filter is JSON),
// how far it has got, and how it ended.
type ExportJob struct {
	ID        int64
	OrgID     int64
	Operator  string
	Kind      string
	Filter    string
	State     string
	Rows      int64
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const exportJobCols = `id, org_id, operator, kind, filter, state, rows, last_error, created_at, updated_at`

// CreateExportJob stores a new export job.
func (tx *Tx) CreateExportJob(ctx context.Context, j *ExportJob) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, err := tx.insertID(ctx, `INSERT INTO export_jobs (org_id, operator, kind, filter, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`, j.OrgID, j.Operator, j.Kind, j.Filter, j.State, ms(now))
	if err != nil {
		return fmt.Errorf("storing the export job: %w", err)
	}
	j.ID, j.CreatedAt, j.UpdatedAt = id, now, now
	return nil
}

// SetExportJob records an export job's state, rows and error.
func (tx *Tx) SetExportJob(ctx context.Context, id int64, state string, rows int64, lastError string) error {
	return tx.execOne(ctx, `UPDATE export_jobs SET state = $1, rows = $2, last_error = $3, updated_at = $4 WHERE id = $5`,
		state, rows, lastError, ms(time.Now()), id)
}

// FailExportJobs marks the jobs still in state from as failed with
// reason: at start, the jobs a stopped server left running.
func (tx *Tx) FailExportJobs(ctx context.Context, from, state, reason string) error {
	_, err := tx.exec(ctx, `UPDATE export_jobs SET state = $1, last_error = $2, updated_at = $3 WHERE state = $4`, state, reason, ms(time.Now()), from)
	return err
}

// ExportJobByID finds an organisation's export job.
func (r *Reader) ExportJobByID(ctx context.Context, orgID, id int64) (*ExportJob, error) {
	var (
		j                ExportJob
		created, updated int64
	)
	err := r.q.QueryRowContext(ctx, `SELECT `+exportJobCols+` FROM export_jobs WHERE org_id = $1 AND id = $2`, orgID, id).
		Scan(&j.ID, &j.OrgID, &j.Operator, &j.Kind, &j.Filter, &j.State, &j.Rows, &j.LastError, &created, &updated)
	if err != nil {
		return nil, mapErr(err)
	}
	j.CreatedAt, j.UpdatedAt = fromMS(created), fromMS(updated)
	return &j, nil
}
