package model

import (
	"slices"
	"time"
)

// Role is what an operator, and the API tokens acting as them, may do:
// each role holds a set of permissions (activation.RoleAllows).
type Role string

// Operator roles.
const (
	// RoleProvider is the service provider's administrator, above every
	// organisation's: it creates, suspends and deletes organisations and
	// acts inside any of them. Only the default organisation (the
	// provider's own) has provider operators.
	RoleProvider Role = "provider"
	RoleAdmin    Role = "admin"   // everything in their organisation
	RoleCSR      Role = "csr"     // accounts and their messages
	RoleAuditor  Role = "auditor" // reads only
)

// Roles lists every role, in the order forms offer them.
var Roles = []Role{RoleProvider, RoleAdmin, RoleCSR, RoleAuditor}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Operator is a person who uses the console or holds API tokens. Its
// password hash never leaves the domain.
type Operator struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Role        Role       `json:"role"`
	Disabled    bool       `json:"disabled"`
	HasPassword bool       `json:"has_password"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

// OperatorInput creates or edits an operator.
type OperatorInput struct {
	Name *string `json:"name,omitempty"`
	Role *Role   `json:"role,omitempty"`
}

// OperatorCreated answers a new operator, or a password reset: the one-time
// link to set a password, shown once.
type OperatorCreated struct {
	Operator       Operator  `json:"operator"`
	SetPasswordURL string    `json:"set_password_url"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// APIToken is an API token as listings show it: never the token itself.
type APIToken struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	Prefix     string     `json:"prefix"`
	Operator   string     `json:"operator,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// TokenInput names a new API token, for the calling operator or, by an
// admin, for another operator.
type TokenInput struct {
	Name     string `json:"name"`
	Operator string `json:"operator,omitempty"`
}

// TokenCreated carries a new API token, shown this once.
type TokenCreated struct {
	APIToken APIToken `json:"api_token"`
	Token    string   `json:"token"`
}

// AuditEntry is one operator action. Before and After are JSON of the
// target with every secret removed.
type AuditEntry struct {
	ID    int64     `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Role  Role      `json:"role,omitempty"`
	Via   string    `json:"via"`
	// Source is the address the request came from; Credential what the
	// actor was known by (an API token by its id, a console session).
	Source     string `json:"source,omitempty"`
	Credential string `json:"credential,omitempty"`
	Action     string `json:"action"`
	Target     string `json:"target,omitempty"`
	Status     int    `json:"status"`
	Before     string `json:"before,omitempty"`
	After      string `json:"after,omitempty"`
}

// ImportState is where an import is: checking (its file, for the
// preview), previewed (the file kept, nothing imported), importing,
// sending (when it sends activations) and done; or cancelled before it was
// confirmed, or failed (a file the check refused, or an import that
// stopped, which confirming again resumes).
type ImportState string

// Import states.
const (
	ImportChecking  ImportState = "checking"
	ImportPreviewed ImportState = "previewed"
	ImportImporting ImportState = "importing"
	ImportSending   ImportState = "sending"
	ImportDone      ImportState = "done"
	ImportFailed    ImportState = "failed"
	ImportCancelled ImportState = "cancelled"
)

// ImportRowError names one bad cell of an import file.
type ImportRowError struct {
	Row     int    `json:"row"`    // 1-based line of the file, the header being line 1
	Column  string `json:"column"` // header name of the cell
	Value   string `json:"value"`
	Message string `json:"message"`
}

// ImportRow is one line of an import file as the preview shows it.
type ImportRow struct {
	Row      int    `json:"row"`
	Name     string `json:"name"`
	Mobile   string `json:"mobile,omitempty"`
	Email    string `json:"email,omitempty"`
	Group    string `json:"group"`
	Action   string `json:"action"`             // create, exists (matched, skipped), error
	Username string `json:"username,omitempty"` // the existing account a row matched
}

// ImportPreview is what importing a file would do; nothing is imported
// until it is confirmed.
type ImportPreview struct {
	ID      int64            `json:"id"`
	State   ImportState      `json:"state"`
	Total   int              `json:"total"`
	Create  int              `json:"create"`
	Exists  int              `json:"exists"`
	Invalid int              `json:"invalid"`
	Errors  []ImportRowError `json:"errors"`
	// MoreErrors counts the bad cells past the first MaxPreviewErrors,
	// which Errors does not list.
	MoreErrors int         `json:"more_errors,omitempty"`
	Rows       []ImportRow `json:"rows,omitempty"`
	Send       string      `json:"send,omitempty"`
}

// MaxPreviewErrors is how many bad cells a preview lists.
const MaxPreviewErrors = 1000

// ImportStatus is an import's progress.
type ImportStatus struct {
	ID        int64       `json:"id"`
	Operator  string      `json:"operator"`
	FileName  string      `json:"file_name,omitempty"`
	State     ImportState `json:"state"`
	Size      int64       `json:"size"`    // the file's bytes
	Checked   int64       `json:"checked"` // of them, how many the check for the preview has read
	Total     int         `json:"total"`
	Done      int         `json:"done"`
	Created   int         `json:"created"`
	ToSend    int         `json:"to_send"`
	Sent      int         `json:"sent"`
	LastError string      `json:"last_error,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}
