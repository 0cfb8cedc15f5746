package model

import "time"

// ExportJobInput asks for an export run as a job: of accounts (with the
// account listing's filters) or of the audit log (with its filters).
type ExportJobInput struct {
	Kind   string `json:"kind"` // accounts or audit
	Group  string `json:"group,omitempty"`
	Status string `json:"status,omitempty"`
	Q      string `json:"q,omitempty"`
	Actor  string `json:"actor,omitempty"`
	Action string `json:"action,omitempty"`
	Target string `json:"target,omitempty"`
}

// Export job states.
const (
	ExportRunning = "running"
	ExportDone    = "done"
	ExportFailed  = "failed"
)

// ExportJob is an export run as a job: its file is downloaded from
// GET /api/v1/exports/{id}/file once its state is done.
type ExportJob struct {
	ID        int64          `json:"id"`
	Kind      string         `json:"kind"`
	Filter    ExportJobInput `json:"filter"`
	State     string         `json:"state"` // running, done or failed
	Rows      int64          `json:"rows"`  // written so far; all of them once done
	LastError string         `json:"last_error,omitempty"`
	Operator  string         `json:"operator"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}
