package activation

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

func operatorOut(o *store.Operator) model.Operator {
	return model.Operator{ID: o.ID, Name: o.Name, Role: o.Role, Disabled: o.Disabled, HasPassword: o.PasswordHash != "",
		CreatedAt: o.CreatedAt, LastLoginAt: o.LastLoginAt}
}

// endAccess ends an operator's console sessions and revokes their API
// tokens, for a change that must not leave them acting as before: a new
// password, a reset, a new role, being disabled. When the operator makes
// the change themselves, the session or token they make it through stays.
func endAccess(ctx context.Context, tx *store.Tx, operatorID int64, by Caller, now time.Time) error {
	var keepSession, keepToken int64
	if by.OperatorID == operatorID {
		keepSession, keepToken = by.SessionID, by.TokenID
	}
	if err := tx.DeleteOperatorSessions(ctx, operatorID, keepSession); err != nil {
		return err
	}
	return tx.RevokeOperatorTokens(ctx, operatorID, keepToken, now)
}

// validRole checks a role by may give: any of an organisation's roles,
// and the provider's only by a provider admin, in the default
// organisation (the provider's own).
func validRole(role model.Role, by Caller) error {
	if !role.Valid() {
		return invalid("role", "unknown role %q: want provider, admin, csr or auditor", role)
	}
	if role == model.RoleProvider {
		if by.Role != model.RoleProvider {
			return &Error{Kind: KindForbidden, Code: "forbidden", Message: "only a provider admin makes provider admins"}
		}
		if by.OrgID != model.DefaultOrgID {
			return invalid("role", "provider admins belong to the default organisation, the provider's own")
		}
	}
	return nil
}

// mayManage refuses by changing, resetting or acting for a provider admin
// unless by is one: an organisation's admin is below the provider.
func mayManage(o *store.Operator, by Caller) error {
	if o.Role == model.RoleProvider && by.Role != model.RoleProvider {
		return &Error{Kind: KindForbidden, Code: "forbidden", Message: "only a provider admin changes a provider admin"}
	}
	return nil
}

// Operators keeps the operators who use the console and the admin API:
// their roles, whether they may log in, the one-time links with which
// they set a password, and their API tokens.
type Operators struct {
	store    *store.Store
	settings *Settings // the base URL of set-password links
	log      *slog.Logger
	now      func() time.Time
}

// NewOperators returns the operators of the organisations in st.
func NewOperators(st *store.Store, settings *Settings, log *slog.Logger) *Operators {
	return &Operators{store: st, settings: settings, log: orDiscard(log), now: time.Now}
}

// List lists the caller's organisation's operators.
func (s *Operators) List(ctx context.Context, by Caller) ([]model.Operator, error) {
	os, err := s.store.Operators(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	out := make([]model.Operator, len(os))
	for i := range os {
		out[i] = operatorOut(&os[i])
	}
	return out, nil
}

// operatorByName finds an operator of an organisation by name.
func operatorByName(ctx context.Context, r *store.Reader, orgID int64, name string) (*store.Operator, error) {
	o, err := r.OperatorByName(ctx, orgID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("operator_not_found", "no operator named %q", name)
	}
	return o, err
}

// Get shows one operator.
func (s *Operators) Get(ctx context.Context, name string, by Caller) (*model.Operator, error) {
	o, err := operatorByName(ctx, &s.store.Reader, by.OrgID, name)
	if err != nil {
		return nil, err
	}
	out := operatorOut(o)
	return &out, nil
}

// Create adds an operator without a password and returns the
// one-time link with which they set one.
func (s *Operators) Create(ctx context.Context, in model.OperatorInput, by Caller) (*model.OperatorCreated, error) {
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
	if err := validRole(role, by); err != nil {
		return nil, err
	}
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	o := &store.Operator{OrgID: by.OrgID, Name: *in.Name, Role: role}
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
	s.log.InfoContext(ctx, "operator created", "operator", o.Name, "role", o.Role, "by", by.Name)
	return res, nil
}

func (s *Operators) issuePasswordLink(ctx context.Context, tx *store.Tx, st *Resolved, o *store.Operator) (*model.OperatorCreated, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	token, hash := secret.NewToken(secret.PrefixSetPassword)
	if err := tx.RevokePasswordTokens(ctx, o.ID, now); err != nil {
		return nil, err
	}
	if err := tx.CreatePasswordToken(ctx, o.ID, hash, now, now.Add(SetPasswordExpiry)); err != nil {
		return nil, err
	}
	return &model.OperatorCreated{Operator: operatorOut(o), SetPasswordURL: st.BaseURL + "/console/set-password/" + token,
		ExpiresAt: now.Add(SetPasswordExpiry)}, nil
}

// ResetPassword issues a new set-password link and ends the operator's
// sessions and API tokens (but the caller's own, when they reset their own
// password): a reset is what an admin does when a password may be known
// to someone else. The old password keeps working until the new one is set.
func (s *Operators) ResetPassword(ctx context.Context, name string, by Caller) (*model.OperatorCreated, error) {
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	var res *model.OperatorCreated
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		o, err := operatorByName(ctx, &tx.Reader, by.OrgID, name)
		if err != nil {
			return err
		}
		if err := mayManage(o, by); err != nil {
			return err
		}
		if res, err = s.issuePasswordLink(ctx, tx, st, o); err != nil {
			return err
		}
		return endAccess(ctx, tx, o.ID, by, s.now())
	})
	if err == nil {
		s.log.InfoContext(ctx, "operator password reset", "operator", name, "by", by.Name)
	}
	return res, err
}

// Update changes an operator's role. A new role ends the operator's
// sessions and revokes their API tokens: each was given for the old role.
func (s *Operators) Update(ctx context.Context, name string, in model.OperatorInput, by Caller) (*model.Operator, error) {
	var out model.Operator
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		o, err := operatorByName(ctx, &tx.Reader, by.OrgID, name)
		if err != nil {
			return err
		}
		if err := mayManage(o, by); err != nil {
			return err
		}
		if in.Role != nil {
			if err := validRole(*in.Role, by); err != nil {
				return err
			}
			if o.ID == by.OperatorID && *in.Role != o.Role {
				return invalid("role", "you cannot change your own role")
			}
			if *in.Role != o.Role {
				if err := tx.SetOperatorRole(ctx, o.ID, *in.Role); err != nil {
					return err
				}
				if err := endAccess(ctx, tx, o.ID, by, s.now()); err != nil {
					return err
				}
			}
			o.Role = *in.Role
		}
		out = operatorOut(o)
		return nil
	})
	return &out, err
}

// SetDisabled disables an operator (ending their sessions and
// revoking their API tokens, so enabling them again brings neither back)
// or enables them again.
func (s *Operators) SetDisabled(ctx context.Context, name string, disabled bool, by Caller) (*model.Operator, error) {
	var out model.Operator
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		o, err := operatorByName(ctx, &tx.Reader, by.OrgID, name)
		if err != nil {
			return err
		}
		if err := mayManage(o, by); err != nil {
			return err
		}
		if disabled && o.ID == by.OperatorID {
			return invalid("name", "you cannot disable yourself")
		}
		if err := tx.SetOperatorDisabled(ctx, o.ID, disabled); err != nil {
			return err
		}
		if disabled {
			if err := endAccess(ctx, tx, o.ID, by, s.now()); err != nil {
				return err
			}
		}
		o.Disabled = disabled
		out = operatorOut(o)
		return nil
	})
	if err == nil {
		s.log.InfoContext(ctx, "operator disabled or enabled", "operator", name, "disabled", disabled, "by", by.Name)
	}
	return &out, err
}
