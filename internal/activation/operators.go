package activation

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Token prefixes of the console's secrets.
const (
	PrefixSession     = "avs_" // console session cookie
	PrefixSetPassword = "avp_" // one-time set-password link
)

// Login policy.
const (
	// MaxLoginFailures is how many wrong passwords in a row lock an operator.
	MaxLoginFailures = 5
	// LockoutDuration is how long the lock lasts.
	LockoutDuration = 15 * time.Minute
	// SessionIdle ends a session nobody used for this long.
	SessionIdle = 8 * time.Hour
	// SessionMax ends any session this long after login.
	SessionMax = 7 * 24 * time.Hour
	// SetPasswordExpiry is how long a set-password link works.
	SetPasswordExpiry = 72 * time.Hour
	// MinPasswordLength is the shortest password accepted, in characters.
	MinPasswordLength = 10
)

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// CheckPassword reports whether password matches an argon2id PHC hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var (
		v       int
		m, t    uint32
		p       uint8
		enc     = base64.RawStdEncoding
		salt, k []byte
		err     error
	)
	if _, err = fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<21 || t > 20 || p == 0 {
		return false
	}
	if salt, err = enc.DecodeString(parts[4]); err != nil {
		return false
	}
	if k, err = enc.DecodeString(parts[5]); err != nil || len(k) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(k)))
	return subtle.ConstantTimeCompare(got, k) == 1
}

// dummyHash is checked against when the operator is unknown, so a wrong
// name takes as long as a wrong password.
// It is made on first use: every command-line run loads this package.
var dummyHash = sync.OnceValue(func() string { return HashPassword("not a password anyone has") })

func operatorOut(o *store.Operator, now time.Time) model.Operator {
	out := model.Operator{ID: o.ID, Name: o.Name, Role: o.Role, Disabled: o.Disabled, HasPassword: o.PasswordHash != "",
		CreatedAt: o.CreatedAt, LastLoginAt: o.LastLoginAt}
	if o.LockedUntil != nil && o.LockedUntil.After(now) {
		out.LockedUntil = o.LockedUntil
	}
	return out
}

func validRole(role string) error {
	if !slices.Contains(Roles, role) {
		return invalid("role", "unknown role %q: want admin, csr or auditor", role)
	}
	return nil
}

// Operators lists the operators.
func (s *Service) Operators(ctx context.Context) ([]model.Operator, error) {
	os, err := s.store.Operators(ctx, s.org)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]model.Operator, len(os))
	for i := range os {
		out[i] = operatorOut(&os[i], now)
	}
	return out, nil
}

func (s *Service) operator(ctx context.Context, r *store.Reader, name string) (*store.Operator, error) {
	o, err := r.OperatorByName(ctx, s.org, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("operator_not_found", "no operator named %q", name)
	}
	return o, err
}

// Operator shows one operator.
func (s *Service) Operator(ctx context.Context, name string) (*model.Operator, error) {
	o, err := s.operator(ctx, &s.store.Reader, name)
	if err != nil {
		return nil, err
	}
	out := operatorOut(o, s.now())
	return &out, nil
}

// CreateOperator adds an operator without a password and returns the
// one-time link with which they set one.
func (s *Service) CreateOperator(ctx context.Context, in model.OperatorInput, by Caller) (*model.OperatorCreated, error) {
	if in.Name == nil {
		return nil, invalid("name", "name is required")
	}
	if err := validName("name", *in.Name); err != nil {
		return nil, err
	}
	role := model.RoleCSR
	if in.Role != nil {
		role = *in.Role
	}
	if err := validRole(role); err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	o := &store.Operator{OrgID: s.org, Name: *in.Name, Role: role}
	var res *model.OperatorCreated
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateOperator(ctx, o); err != nil {
			return err
		}
		res, err = s.issuePasswordLink(ctx, tx, st, o)
		return err
	})
	if err != nil {
		return nil, mapStore("creating operator", "name", err)
	}
	s.log.Info("operator created", "operator", o.Name, "role", o.Role, "by", by.Name)
	return res, nil
}

func (s *Service) issuePasswordLink(ctx context.Context, tx *store.Tx, st *Settings, o *store.Operator) (*model.OperatorCreated, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	token, hash := secret.NewToken(PrefixSetPassword)
	if err := tx.RevokePasswordTokens(ctx, o.ID, now); err != nil {
		return nil, err
	}
	if err := tx.CreatePasswordToken(ctx, o.ID, hash, now, now.Add(SetPasswordExpiry)); err != nil {
		return nil, err
	}
	return &model.OperatorCreated{Operator: operatorOut(o, now), SetPasswordURL: st.BaseURL + "/console/set-password/" + token,
		ExpiresAt: now.Add(SetPasswordExpiry)}, nil
}

// ResetOperatorPassword issues a new set-password link; the old password
// keeps working until the new one is set.
func (s *Service) ResetOperatorPassword(ctx context.Context, name string, by Caller) (*model.OperatorCreated, error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	var res *model.OperatorCreated
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		o, err := s.operator(ctx, &tx.Reader, name)
		if err != nil {
			return err
		}
		res, err = s.issuePasswordLink(ctx, tx, st, o)
		return err
	})
	return res, err
}

// UpdateOperator changes an operator's role.
func (s *Service) UpdateOperator(ctx context.Context, name string, in model.OperatorInput, by Caller) (*model.Operator, error) {
	var out model.Operator
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		o, err := s.operator(ctx, &tx.Reader, name)
		if err != nil {
			return err
		}
		if in.Role != nil {
			if err := validRole(*in.Role); err != nil {
				return err
			}
			if o.ID == by.OperatorID && *in.Role != o.Role {
				return invalid("role", "you cannot change your own role")
			}
			if err := tx.SetOperatorRole(ctx, o.ID, *in.Role); err != nil {
				return err
			}
			o.Role = *in.Role
		}
		out = operatorOut(o, s.now())
		return nil
	})
	return &out, err
}

// SetOperatorDisabled disables an operator (ending their sessions and
// stopping their API tokens) or enables them again.
func (s *Service) SetOperatorDisabled(ctx context.Context, name string, disabled bool, by Caller) (*model.Operator, error) {
	var out model.Operator
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		o, err := s.operator(ctx, &tx.Reader, name)
		if err != nil {
			return err
		}
		if disabled && o.ID == by.OperatorID {
			return invalid("name", "you cannot disable yourself")
		}
		if err := tx.SetOperatorDisabled(ctx, o.ID, disabled); err != nil {
			return err
		}
		if disabled {
			if err := tx.DeleteOperatorSessions(ctx, o.ID); err != nil {
				return err
			}
		}
		o.Disabled = disabled
		out = operatorOut(o, s.now())
		return nil
	})
	if err == nil {
		s.log.Info("operator disabled or enabled", "operator", name, "disabled", disabled, "by", by.Name)
	}
	return &out, err
}

// PasswordLinkOperator says whose set-password link token is; it does not
// use the link up.
func (s *Service) PasswordLinkOperator(ctx context.Context, token string) (*model.Operator, error) {
	if !secret.WellFormed(token, PrefixSetPassword) {
		return nil, ErrPasswordLink
	}
	o, err := s.store.PasswordTokenOperator(ctx, secret.Hash(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrPasswordLink
	}
	if err != nil {
		return nil, err
	}
	out := operatorOut(o, s.now())
	return &out, nil
}

// ErrPasswordLink is a set-password link that is unknown, used or expired.
var ErrPasswordLink = &Error{Kind: KindGone, Code: "password_link_invalid", Message: "this set-password link is unknown, used or expired; ask an administrator for a new one"}

// ErrLogin is every failed login: it never says whether the name exists.
var ErrLogin = &Error{Kind: KindUnauthorized, Code: "login_failed", Message: "wrong name or password"}

// ErrLocked is a login refused because of repeated failures.
var ErrLocked = &Error{Kind: KindForbidden, Code: "operator_locked", Message: "too many wrong passwords: this operator is locked for a while"}

// ValidatePassword checks a new password against the policy.
func ValidatePassword(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return invalid("password", "a password has at least %d characters", MinPasswordLength)
	}
	if len(password) > 1024 {
		return invalid("password", "a password has at most 1024 bytes")
	}
	return nil
}

// SetPassword sets an operator's password through a one-time link, using
// the link up, and logs them in.
func (s *Service) SetPassword(ctx context.Context, token, password string) (*Login, error) {
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	if !secret.WellFormed(token, PrefixSetPassword) {
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
		return tx.SetOperatorPassword(ctx, o.ID, pw)
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
	Expires  time.Time
}

// Login checks an operator's password and starts a session. Wrong
// passwords count; MaxLoginFailures in a row lock the operator for
// LockoutDuration, during which even the right password is refused.
func (s *Service) Login(ctx context.Context, name, password string) (*Login, error) {
	now := s.now()
	o, err := s.store.OperatorByName(ctx, s.org, name)
	if errors.Is(err, store.ErrNotFound) {
		CheckPassword(dummyHash(), password)
		return nil, ErrLogin
	}
	if err != nil {
		return nil, err
	}
	if o.LockedUntil != nil && o.LockedUntil.After(now) {
		return nil, ErrLocked
	}
	if o.LockedUntil != nil { // the lock ran out: start counting afresh
		if err := s.store.Tx(ctx, func(tx *store.Tx) error { return tx.ResetLockout(ctx, o.ID) }); err != nil {
			return nil, err
		}
	}
	if o.PasswordHash == "" || !CheckPassword(o.PasswordHash, password) || o.Disabled {
		var n int
		if err := s.store.Tx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = tx.RecordLoginFailure(ctx, o.ID, MaxLoginFailures, now.Add(LockoutDuration))
			return err
		}); err != nil {
			return nil, err
		}
		s.log.Warn("console login failed", "operator", o.Name, "failures", n)
		if n >= MaxLoginFailures {
			return nil, ErrLocked
		}
		return nil, ErrLogin
	}
	if err := s.store.Tx(ctx, func(tx *store.Tx) error { return tx.RecordLogin(ctx, o.ID, now) }); err != nil {
		return nil, err
	}
	return s.startSession(ctx, o)
}

func (s *Service) startSession(ctx context.Context, o *store.Operator) (*Login, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	token, hash := secret.NewToken(PrefixSession)
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
	s.log.Info("console login", "operator", o.Name)
	return &Login{Token: token, CSRF: csrf, Operator: operatorOut(o, now), Expires: sess.ExpiresAt}, nil
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
func (s *Service) Session(ctx context.Context, token string) (*ConsoleSession, error) {
	if !secret.WellFormed(token, PrefixSession) {
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
	// Move the idle expiry at most once a minute: one write per minute of use, not per request.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		_ = s.store.Tx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, sess.ID, now, now.Add(SessionIdle)) })
	}
	return &ConsoleSession{Caller: Caller{Name: o.Name, Role: o.Role, OperatorID: o.ID}, CSRF: sess.CSRFToken, id: sess.ID}, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	if !secret.WellFormed(token, PrefixSession) {
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

func tokenOut(t store.OperatorToken) model.APIToken {
	return model.APIToken{ID: t.ID, Name: t.Name, Role: t.Role, Prefix: t.Prefix, Operator: t.Operator, CreatedAt: t.CreatedAt,
		LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

// Tokens lists API tokens: an admin sees every token, others their own.
func (s *Service) Tokens(ctx context.Context, by Caller) ([]model.APIToken, error) {
	var opID int64
	if by.Role != model.RoleAdmin {
		if by.OperatorID == 0 {
			return []model.APIToken{}, nil
		}
		opID = by.OperatorID
	}
	ts, err := s.store.OperatorTokens(ctx, s.org, opID)
	if err != nil {
		return nil, err
	}
	out := make([]model.APIToken, len(ts))
	for i, t := range ts {
		out[i] = tokenOut(t)
	}
	return out, nil
}

// CreateToken issues an API token for an operator, with the operator's
// role. Anyone may make tokens for themselves; only an admin for others.
func (s *Service) CreateToken(ctx context.Context, in model.TokenInput, by Caller) (*model.TokenCreated, error) {
	if err := validName("name", in.Name); err != nil {
		return nil, err
	}
	opName := in.Operator
	if opName == "" {
		if by.OperatorID == 0 {
			return nil, invalid("operator", "operator is required: this caller is not an operator")
		}
		opName = by.Name
	}
	o, err := s.operator(ctx, &s.store.Reader, opName)
	if err != nil {
		return nil, invalidFrom("operator", err)
	}
	if o.ID != by.OperatorID && by.Role != model.RoleAdmin {
		return nil, &Error{Kind: KindForbidden, Code: "forbidden", Message: "only an admin makes tokens for other operators"}
	}
	if o.Disabled {
		return nil, invalid("operator", "operator %q is disabled", o.Name)
	}
	token, hash := secret.NewToken(secret.PrefixAdminToken)
	var id int64
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = tx.CreateOperatorToken(ctx, s.org, o.ID, in.Name, o.Role, secret.Display(token), hash)
		return err
	})
	if err != nil {
		return nil, mapStore("creating token", "", err)
	}
	s.log.Info("API token created", "operator", o.Name, "token", secret.Display(token), "by", by.Name)
	return &model.TokenCreated{Token: token, APIToken: model.APIToken{ID: id, Name: in.Name, Role: o.Role, Prefix: secret.Display(token),
		Operator: o.Name, CreatedAt: s.now().UTC()}}, nil
}

// RevokeToken revokes an API token: an admin any, others their own.
func (s *Service) RevokeToken(ctx context.Context, id int64, by Caller) error {
	var opID int64
	if by.Role != model.RoleAdmin {
		opID = by.OperatorID
		if opID == 0 {
			return notFound("token_not_found", "no live token %d of yours", id)
		}
	}
	err := s.store.Tx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIToken(ctx, s.org, id, opID) })
	if errors.Is(err, store.ErrNotFound) {
		return notFound("token_not_found", "no live token %d of yours", id)
	}
	return err
}

// invalidFrom turns a not-found of something named in the input into a
// bad-input error on that field.
func invalidFrom(field string, err error) error {
	var de *Error
	if errors.As(err, &de) && de.Kind == KindNotFound {
		return invalid(field, "%s", de.Message)
	}
	return err
}
