package activation

import "github.com/activator-voip/activator/internal/model"

// Caller is who acts, for the timeline and authorisation.
type Caller struct {
	Name string
	Role model.Role
	// OperatorID is the operator acting (console session or their API
	// token); 0 for the first-start token.
	OperatorID int64
	// OrgID is the organisation the caller acts in, from the row that
	// authenticated them: the API token's or the session operator's.
	OrgID int64
	// SessionID is the console session acting, TokenID the API token: the
	// one an operator keeps when they change their own password.
	SessionID, TokenID int64
}
