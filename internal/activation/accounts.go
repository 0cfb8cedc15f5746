package activation

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// ListAccounts lists accounts by group and status.
func (s *Service) ListAccounts(ctx context.Context, group, status, search string, limit, offset int) ([]model.Account, error) {
	return s.listAccounts(ctx, store.AccountFilter{Status: status, Search: search, Limit: limit, Offset: offset}, group)
}

// listAccounts validates a filter, resolves the group's name, and lists.
func (s *Service) listAccounts(ctx context.Context, f store.AccountFilter, group string) ([]model.Account, error) {
	status, limit, offset := f.Status, f.Limit, f.Offset
	if status != "" && status != model.StatusDisabled && !validStage(status) {
		return nil, invalid("status", "unknown status %q: want disabled, %s", status, strings.Join(model.Stages, ", "))
	}
	if limit < 0 || limit > 1000 {
		return nil, invalid("limit", "limit must be from 1 to 1000")
	}
	if offset < 0 {
		return nil, invalid("offset", "offset must not be negative")
	}
	if group != "" {
		g, err := s.store.GroupByName(ctx, s.org, group)
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid("group", "no group named %q", group)
		}
		if err != nil {
			return nil, err
		}
		f.GroupID = &g.ID
	}
	return s.store.Accounts(ctx, s.org, f)
}

func validStage(v string) bool {
	for _, s := range model.Stages {
		if s == v {
			return true
		}
	}
	return false
}

func (s *Service) account(ctx context.Context, r *store.Reader, username string) (*store.AccountRow, error) {
	a, err := r.AccountByUsername(ctx, s.org, username)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("account_not_found", "no account with username %q", username)
	}
	return a, err
}

// Account returns everything an operator sees about an account.
func (s *Service) Account(ctx context.Context, username string) (*model.AccountDetail, error) {
	a, err := s.account(ctx, &s.store.Reader, username)
	if err != nil {
		return nil, err
	}
	d := &model.AccountDetail{Account: a.Account}
	if d.EffectiveProfile, err = s.effectiveProfile(ctx, &s.store.Reader, a); err != nil {
		return nil, err
	}
	if d.Invitations, err = s.store.Invitations(ctx, a.ID); err != nil {
		return nil, err
	}
	if d.Devices, err = s.store.Devices(ctx, a.ID); err != nil {
		return nil, err
	}
	if d.Messages, err = s.store.Messages(ctx, s.org, store.MessageFilter{AccountID: a.ID}); err != nil {
		return nil, err
	}
	if d.Events, err = s.store.Events(ctx, a.ID); err != nil {
		return nil, err
	}
	if d.Registrations, err = s.store.Registrations(ctx, a.ID, s.now()); err != nil {
		return nil, err
	}
	return d, nil
}

// Events returns an account's timeline.
func (s *Service) Events(ctx context.Context, username string) ([]model.Event, error) {
	a, err := s.account(ctx, &s.store.Reader, username)
	if err != nil {
		return nil, err
	}
	return s.store.Events(ctx, a.ID)
}

// EffectiveProfile is the profile an account's client receives: the
// account's own, else its group's, else the default.
func (s *Service) EffectiveProfile(ctx context.Context, username string) (*model.EffectiveProfile, error) {
	a, err := s.account(ctx, &s.store.Reader, username)
	if err != nil {
		return nil, err
	}
	ep, err := s.effectiveProfile(ctx, &s.store.Reader, a)
	return &ep, err
}

func (s *Service) effectiveProfile(ctx context.Context, r *store.Reader, a *store.AccountRow) (model.EffectiveProfile, error) {
	var (
		p      *model.Profile
		source string
		err    error
	)
	switch {
	case a.ProfileID != nil:
		p, source = nil, "account"
		p, err = r.ProfileByID(ctx, *a.ProfileID)
	default:
		g, gerr := r.GroupByID(ctx, a.GroupID)
		if gerr != nil {
			return model.EffectiveProfile{}, fmt.Errorf("reading the account's group: %w", gerr)
		}
		if g.ProfileID != nil {
			source = "group"
			p, err = r.ProfileByID(ctx, *g.ProfileID)
		} else {
			source = "default"
			p, err = r.DefaultProfile(ctx, s.org)
		}
	}
	if err != nil {
		return model.EffectiveProfile{}, fmt.Errorf("reading the effective profile: %w", err)
	}
	return model.EffectiveProfile{Profile: p.Name, Source: source, Settings: p.Settings}, nil
}

// CreateAccount makes a wizard account: it cannot register until a device
// activates it. The username is generated; the virtual number too, unless given.
func (s *Service) CreateAccount(ctx context.Context, in model.AccountInput, by Caller) (*model.Account, error) {
	st, err := s.settings.Current(ctx, s.org)
	if err != nil {
		return nil, err
	}
	if in.Group == nil || *in.Group == "" {
		return nil, invalid("group", "group is required: every account belongs to one group")
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return nil, invalid("name", "name is required")
	}
	a := &store.AccountRow{OrgID: s.org, Account: model.Account{
		Kind: "wizard", Stage: model.StageNew, SecurityModel: model.EndToEnd,
	}}
	const tries = 20
	for attempt := 1; ; attempt++ {
		err = s.store.Tx(ctx, func(tx *store.Tx) error {
			if err := s.applyAccount(ctx, &tx.Reader, st, a, in); err != nil {
				return err
			}
			a.Username = secret.RandomDigits(st.UsernameDigits)
			if in.VirtualNumber == nil || *in.VirtualNumber == "" {
				if a.VirtualNumber, err = s.freeVirtualNumber(ctx, &tx.Reader, st.Numbers); err != nil {
					return err
				}
			}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			return tx.AddEvent(ctx, s.org, a.ID, model.EventCreated, by.Name, map[string]string{"group": a.Group})
		})
		var ce *store.ConflictError
		if errors.As(err, &ce) && attempt < tries {
			generated := ce.Column == "username" || (ce.Column == "virtual_number" && (in.VirtualNumber == nil || *in.VirtualNumber == ""))
			if generated {
				continue // another writer took the value between the draw and the insert: draw again
			}
		}
		break
	}
	if err != nil {
		return nil, mapStore("creating account", "", err)
	}
	s.log.Info("account created", "username", a.Username, "group", a.Group, "by", by.Name)
	return &a.Account, nil
}

// UpdateAccount changes the fields given.
func (s *Service) UpdateAccount(ctx context.Context, username string, in model.AccountInput, by Caller) (*model.Account, error) {
	st, err := s.settings.Current(ctx, s.org)
	if err != nil {
		return nil, err
	}
	var a *store.AccountRow
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if a, err = s.account(ctx, &tx.Reader, username); err != nil {
			return err
		}
		if err := s.applyAccount(ctx, &tx.Reader, st, a, in); err != nil {
			return err
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		return tx.AddEvent(ctx, s.org, a.ID, model.EventEdited, by.Name, nil)
	})
	if err != nil {
		return nil, mapStore("updating account", "", err)
	}
	return &a.Account, nil
}

var virtualNumberRe = regexp.MustCompile(`^\+?[0-9]{2,15}$`)

// applyAccount validates the given fields into a.
func (s *Service) applyAccount(ctx context.Context, r *store.Reader, st *Resolved, a *store.AccountRow, in model.AccountInput) error {
	if in.Group != nil {
		g, err := r.GroupByName(ctx, s.org, *in.Group)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("group", "no group named %q", *in.Group)
		}
		if err != nil {
			return err
		}
		a.GroupID, a.Group = g.ID, g.Name
	}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 200 || hasControl(n) {
			return invalid("name", "name must be 1 to 200 characters without control characters")
		}
		a.DisplayName = n
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if e != "" {
			if err := validEmail("email", e); err != nil {
				return err
			}
		}
		a.Email = e
	}
	if in.Mobile != nil {
		m, err := normaliseMobile(*in.Mobile, st.PhoneRegion)
		if err != nil {
			return err
		}
		a.Mobile = m
	}
	if in.SecurityModel != nil {
		m := model.SecurityModel(*in.SecurityModel)
		if !m.Valid() {
			return invalid("security_model", "unknown security model %q: want end-to-end or end-to-site", *in.SecurityModel)
		}
		a.SecurityModel = m
	}
	if in.Profile != nil {
		if *in.Profile == "" {
			a.ProfileID, a.Profile = nil, ""
		} else {
			p, err := r.ProfileByName(ctx, s.org, *in.Profile)
			if errors.Is(err, store.ErrNotFound) {
				return invalid("profile", "no profile named %q", *in.Profile)
			}
			if err != nil {
				return err
			}
			a.ProfileID, a.Profile = &p.ID, p.Name
		}
	}
	if in.VirtualNumber != nil && *in.VirtualNumber != "" {
		if !virtualNumberRe.MatchString(*in.VirtualNumber) {
			return invalid("virtual_number", "a virtual number is 2 to 15 digits, optionally after a +")
		}
		a.VirtualNumber = *in.VirtualNumber
	}
	if in.Language != nil {
		if !model.ValidLanguage(*in.Language) {
			return invalid("language", "unsupported language %q: want one of %s", *in.Language, strings.Join(model.Languages, ", "))
		}
		a.Language = *in.Language
	}
	if in.Description != nil {
		if len(*in.Description) > 1000 {
			return invalid("description", "at most 1000 characters")
		}
		a.Description = *in.Description
	}
	return nil
}

// randomStart draws where the search for a free virtual number begins, so
// that numbers are spread over the range rather than handed out in order.
func randomStart(nr store.NumberRange) (uint64, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).SetUint64(nr.Size()))
	if err != nil {
		return 0, fmt.Errorf("drawing a virtual number: %w", err)
	}
	return nr.From + n.Uint64(), nil
}

// errNumbersExhausted is the refusal when the range has no free number.
func errNumbersExhausted(nr store.NumberRange) error {
	return conflict("virtual_numbers_exhausted", "virtual_number",
		"the virtual number range %s-%s has no free number left: widen the virtual_number_range setting", nr.Format(nr.From), nr.Format(nr.To))
}

// freeVirtualNumber finds a virtual number no account of the organisation
// holds: a random one of the range if free, else the next free one. It
// fails only when every number of the range is taken.
func (s *Service) freeVirtualNumber(ctx context.Context, r *store.Reader, nr store.NumberRange) (string, error) {
	start, err := randomStart(nr)
	if err != nil {
		return "", err
	}
	n, ok, err := r.FreeVirtualNumber(ctx, s.org, nr, start)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errNumbersExhausted(nr)
	}
	return n, nil
}

// SetDisabled disables or enables an account. A disabled account cannot
// register, redeem or fetch its configuration.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool, by Caller) (*model.Account, error) {
	var a *store.AccountRow
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = s.account(ctx, &tx.Reader, username); err != nil {
			return err
		}
		if a.Disabled == disabled {
			return nil
		}
		if err := tx.SetAccountDisabled(ctx, a.ID, disabled); err != nil {
			return err
		}
		kind := model.EventEnabled
		if disabled {
			kind = model.EventDisabled
		}
		a.Disabled = disabled
		a.Derive()
		return tx.AddEvent(ctx, s.org, a.ID, kind, by.Name, nil)
	})
	if err != nil {
		return nil, err
	}
	s.syncSIP(ctx, username)
	return &a.Account, nil
}

// DeleteAccount deletes an account, its links, devices and timeline.
func (s *Service) DeleteAccount(ctx context.Context, username string, by Caller) error {
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := s.account(ctx, &tx.Reader, username)
		if err != nil {
			return err
		}
		return tx.DeleteAccount(ctx, a.ID)
	})
	if err == nil {
		s.log.Info("account deleted", "username", username, "by", by.Name)
		s.syncSIP(ctx, username)
	}
	return err
}

// ListAccountsOfModel is ListAccounts narrowed to one security model too
// ("" for any), for the console's filters.
func (s *Service) ListAccountsOfModel(ctx context.Context, group, status, search, securityModel string, limit, offset int) ([]model.Account, error) {
	if securityModel != "" && !model.SecurityModel(securityModel).Valid() {
		return nil, invalid("security_model", "unknown security model %q: want end-to-end or end-to-site", securityModel)
	}
	return s.listAccounts(ctx, store.AccountFilter{Status: status, Search: search, SecurityModel: securityModel, Limit: limit, Offset: offset}, group)
}

// Registrations lists an account's live SIP bindings.
func (s *Service) Registrations(ctx context.Context, username string) ([]model.Registration, error) {
	a, err := s.account(ctx, &s.store.Reader, username)
	if err != nil {
		return nil, err
	}
	return s.store.Registrations(ctx, a.ID, s.now())
}
