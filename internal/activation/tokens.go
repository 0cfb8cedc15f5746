package activation

import (
	"context"
	"errors"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

func tokenOut(t store.OperatorToken) model.APIToken {
	return model.APIToken{ID: t.ID, Name: t.Name, Role: t.Role, Prefix: t.Prefix, Operator: t.Operator, CreatedAt: t.CreatedAt,
		LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

// Tokens lists API tokens: an admin sees every token, others their own.
func (s *Operators) Tokens(ctx context.Context, by Caller) ([]model.APIToken, error) {
	var opID int64
	if !RoleAllows(by.Role, PermConfig) {
		if by.OperatorID == 0 {
			return []model.APIToken{}, nil
		}
		opID = by.OperatorID
	}
	ts, err := s.store.OperatorTokens(ctx, by.OrgID, opID)
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
func (s *Operators) CreateToken(ctx context.Context, in model.TokenInput, by Caller) (*model.TokenCreated, error) {
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
	o, err := operatorByName(ctx, &s.store.Reader, by.OrgID, opName)
	if err != nil {
		return nil, invalidFrom("operator", err)
	}
	if o.ID != by.OperatorID && !RoleAllows(by.Role, PermConfig) {
		return nil, &Error{Kind: KindForbidden, Code: "forbidden", Message: "only an admin makes tokens for other operators"}
	}
	if err := mayManage(o, by); err != nil {
		return nil, err
	}
	if o.Disabled {
		return nil, invalid("operator", "operator %q is disabled", o.Name)
	}
	token, hash := secret.NewToken(secret.PrefixAPIToken)
	var id int64
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = tx.CreateOperatorToken(ctx, o.OrgID, o.ID, in.Name, o.Role, secret.Display(token), hash)
		return err
	})
	if err != nil {
		return nil, mapStore("creating token", "", err)
	}
	s.log.InfoContext(ctx, "API token created", "operator", o.Name, "token", secret.Display(token), "by", by.Name)
	return &model.TokenCreated{Token: token, APIToken: model.APIToken{ID: id, Name: in.Name, Role: o.Role, Prefix: secret.Display(token),
		Operator: o.Name, CreatedAt: s.now().UTC()}}, nil
}

// RevokeToken revokes an API token: an admin any but a provider admin's,
// a provider admin any, others their own.
func (s *Operators) RevokeToken(ctx context.Context, id int64, by Caller) error {
	var opID int64
	if !RoleAllows(by.Role, PermConfig) {
		opID = by.OperatorID
		if opID == 0 {
			return notFound("token_not_found", "no live token %d of yours", id)
		}
	}
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		if by.Role != model.RoleProvider && opID == 0 {
			ts, err := tx.OperatorTokens(ctx, by.OrgID, 0)
			if err != nil {
				return err
			}
			for _, t := range ts {
				if t.ID == id && t.Role == model.RoleProvider {
					return &Error{Kind: KindForbidden, Code: "forbidden", Message: "only a provider admin revokes a provider admin's token"}
				}
			}
		}
		return tx.RevokeAPIToken(ctx, by.OrgID, id, opID)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("token_not_found", "no live token %d of yours", id)
	}
	return err
}
