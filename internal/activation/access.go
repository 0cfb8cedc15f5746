package activation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Access says who is calling: the operator (or first-start token) behind
// an API token, and console logins and their sessions. Each caller it
// finds acts in the organisation of the row that authenticated it.
type Access struct {
	store    *store.Store
	settings *Settings // whether an organisation is suspended, cached with its settings
	log      *slog.Logger
	now      func() time.Time
	// verify checks a password against its argon2id hash. Login calls it
	// exactly once for every attempt, whatever the outcome: that is what
	// makes every failure take as long as a wrong password.
	verify   func(hash, password string) bool
	throttle *loginThrottle
}

// NewAccess returns the access checks of the organisations in st.
func NewAccess(st *store.Store, settings *Settings, log *slog.Logger) *Access {
	return &Access{store: st, settings: settings, log: orDiscard(log), now: time.Now, verify: CheckPassword, throttle: newLoginThrottle()}
}

// Authenticate finds the API token's caller.
func (s *Access) Authenticate(ctx context.Context, token string) (*Caller, error) {
	if !secret.WellFormed(token, secret.PrefixAPIToken) {
		return nil, &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: "a valid API token is required (Authorization: Bearer " + secret.PrefixAPIToken + "...)"}
	}
	t, err := s.store.APITokenOwner(ctx, secret.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: "the API token is unknown or revoked"}
	}
	if err != nil {
		return nil, fmt.Errorf("checking API token: %w", err)
	}
	if t.OperatorID != 0 { // an operator's token acts as the operator, with their current role
		if t.OperatorDisabled {
			return nil, &Error{Kind: KindUnauthorized, Code: "unauthorized", Message: "the API token's operator is disabled"}
		}
		c := &Caller{Name: t.OperatorName, Role: t.OperatorRole, OperatorID: t.OperatorID, OrgID: t.OrgID, TokenID: t.ID}
		return c, s.refuseSuspended(ctx, c.OrgID)
	}
	c := &Caller{Name: t.Name, Role: t.Role, OrgID: t.OrgID, TokenID: t.ID}
	return c, s.refuseSuspended(ctx, c.OrgID)
}

// refuseSuspended is ErrOrganisationSuspended when organisation orgID is
// suspended, as its cached settings say (the links and devices read the
// same): the default organisation, the provider's own, never is.
func (s *Access) refuseSuspended(ctx context.Context, orgID int64) error {
	st, err := s.settings.Current(ctx, orgID)
	if err != nil {
		return fmt.Errorf("reading the caller's organisation: %w", err)
	}
	if st.Suspended() {
		return ErrOrganisationSuspended
	}
	return nil
}

// Session and password policy (password guessing: passwords.go).
const (
	// SessionIdle ends a session nobody used for this long.
	SessionIdle = 8 * time.Hour
	// SessionMax ends any session this long after login.
	SessionMax = 7 * 24 * time.Hour
	// SetPasswordExpiry is how long a set-password link works.
	SetPasswordExpiry = 72 * time.Hour
	// MinPasswordLength is the shortest password accepted, in characters.
	MinPasswordLength = 10
)

// PasswordLinkOperator says whose set-password link token is; it does not
// use the link up.
func (s *Access) PasswordLinkOperator(ctx context.Context, token string) (*model.Operator, error) {
	if !secret.WellFormed(token, secret.PrefixSetPassword) {
		return nil, ErrPasswordLink
	}
	o, err := s.store.PasswordTokenOperator(ctx, secret.Hash(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrPasswordLink
	}
	if err != nil {
		return nil, err
	}
	out := operatorOut(o)
	return &out, nil
}

// ErrPasswordLink is a set-password link that is unknown, used or expired.
var ErrPasswordLink = &Error{Kind: KindGone, Code: "password_link_invalid", Message: "this set-password link is unknown, used or expired; ask an administrator for a new one"}

// ErrLogin is every failed login, whatever failed: an unknown name, a
// wrong password, a disabled operator, an operator without a password yet,
// or an address or name that must wait. It never says which, so it tells
// nobody which names exist.
var ErrLogin = &Error{Kind: KindUnauthorized, Code: "login_failed",
	Message: "wrong name or password; after several failures, wait a few minutes before trying again"}

// SetPassword sets an operator's password through a one-time link, using
// the link up, and logs them in.
func (s *Access) SetPassword(ctx context.Context, token, password string) (*Login, error) {
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	if !secret.WellFormed(token, secret.PrefixSetPassword) {
		return nil, ErrPasswordLink
	}
	hash := secret.Hash(token)
	pw := HashPassword(password)
	now := s.now()
	var o *store.Operator
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if o, err = tx.PasswordTokenOperator(ctx, hash, now); err != nil {
			return err
		}
		if err := tx.UsePasswordToken(ctx, hash, now); err != nil {
			return err
		}
		if err := tx.SetOperatorPassword(ctx, o.ID, pw); err != nil {
			return err
		}
		// Whoever held the old password loses what it gave them; the
		// session started below is the only one left.
		return endAccess(ctx, tx, o.ID, Caller{}, now)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrPasswordLink
	}
	if err != nil {
		return nil, err
	}
	if o.Disabled {
		return nil, ErrLogin
	}
	return s.startSession(ctx, o)
}

// Login is a started console session. Token goes in the cookie and nowhere else.
type Login struct {
	Token    string
	CSRF     string
	Operator model.Operator
	Caller   Caller // who the session acts as
	Expires  time.Time
}

// operatorCaller is the caller an operator's session acts as, in the
// operator's organisation.
func operatorCaller(o *store.Operator, sessionID int64) Caller {
	return Caller{Name: o.Name, Role: o.Role, OperatorID: o.ID, OrgID: o.OrgID, SessionID: sessionID}
}

// Login checks the password of an operator of an organisation and starts
// a session. source is the address the attempt comes from (host:port or an
// address). Every failure is ErrLogin, after one password verification
// (against a stand-in hash when the name is unknown), and counts towards
// the throttle of source and of name (passwords.go); a right password logs
// in unless source is waiting, or is waiting for this name.
func (s *Access) Login(ctx context.Context, orgID int64, name, password, source string) (*Login, error) {
	now := s.now()
	src, who := throttleSource(source), throttleName(orgID, name)
	o, err := s.store.OperatorByName(ctx, orgID, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	known := err == nil && o.PasswordHash != ""
	hash := dummyHash()
	if known {
		hash = o.PasswordHash
	}
	right := s.verify(hash, password) // for every attempt: see verify
	if known && right && !o.Disabled && s.throttle.allowed(src, who, now) {
		if err := s.refuseSuspended(ctx, o.OrgID); err != nil {
			return nil, err
		}
		if err := s.store.Tx(ctx, func(tx *store.Tx) error { return tx.RecordLogin(ctx, o.ID, now) }); err != nil {
			return nil, err
		}
		return s.startSession(ctx, o)
	}
	if !s.throttle.failed(src, who, now) {
		s.log.WarnContext(ctx, "console login failed", "name", BoundedName(name), "source", src)
	}
	return nil, ErrLogin
}

func (s *Access) startSession(ctx context.Context, o *store.Operator) (*Login, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	token, hash := secret.NewToken(secret.PrefixSession)
	csrf, _ := secret.NewToken("")
	sess := &store.Session{OperatorID: o.ID, CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(SessionIdle)}
	if err := s.store.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.DeleteExpiredSessions(ctx, now); err != nil {
			return err
		}
		return tx.CreateSession(ctx, sess, hash)
	}); err != nil {
		return nil, fmt.Errorf("starting a session: %w", err)
	}
	s.log.InfoContext(ctx, "console login", "operator", o.Name)
	return &Login{Token: token, CSRF: csrf, Operator: operatorOut(o), Caller: operatorCaller(o, sess.ID), Expires: sess.ExpiresAt}, nil
}

// ConsoleSession is a live session's caller and its CSRF token.
type ConsoleSession struct {
	Caller Caller
	CSRF   string
	id     int64
}

// ErrNoSession is a missing, expired or ended console session.
var ErrNoSession = &Error{Kind: KindUnauthorized, Code: "no_session", Message: "please log in"}

// Session finds the operator of a session cookie and keeps the session
// alive. Disabled operators have no sessions.
func (s *Access) Session(ctx context.Context, token string) (*ConsoleSession, error) {
	if !secret.WellFormed(token, secret.PrefixSession) {
		return nil, ErrNoSession
	}
	now := s.now()
	sess, o, err := s.store.SessionByHash(ctx, secret.Hash(token), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	if o.Disabled || now.Sub(sess.CreatedAt) > SessionMax {
		return nil, ErrNoSession
	}
	if err := s.refuseSuspended(ctx, o.OrgID); err != nil {
		return nil, err
	}
	// Move the idle expiry at most once a minute: one write per minute of use, not per request.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		_ = s.store.Tx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, sess.ID, now, now.Add(SessionIdle)) })
	}
	return &ConsoleSession{Caller: operatorCaller(o, sess.ID), CSRF: sess.CSRFToken, id: sess.ID}, nil
}

// Logout ends a session.
func (s *Access) Logout(ctx context.Context, token string) error {
	if !secret.WellFormed(token, secret.PrefixSession) {
		return nil
	}
	sess, _, err := s.store.SessionByHash(ctx, secret.Hash(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, sess.ID) })
}
