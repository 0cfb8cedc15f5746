package activation

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// Accounts keeps the accounts: their details and state (enabled,
// disabled, deleted), their effective profile, and the SIP account
// backend, which it keeps in step with every change.
type Accounts struct {
	store    *store.Store
	settings *Settings
	box      *secret.Box    // opens SIP passwords for the backend
	backend  AccountBackend // nil: no backend to keep in step
	log      *slog.Logger
	now      func() time.Time
	// numberLog rate-limits the log's warning of a nearly full range.
	numberLog numberUseLog
}

// AccountsConfig is what Accounts is made from.
type AccountsConfig struct {
	Store    *store.Store
	Settings *Settings
	Box      *secret.Box
	// Backend is where SIP accounts live (internal/sip/registrar, internal/sip/kamailio); nil keeps none in step.
	Backend AccountBackend
	Logger  *slog.Logger
}

// NewAccounts returns the accounts of the organisations in c.Store.
func NewAccounts(c AccountsConfig) *Accounts {
	return &Accounts{store: c.Store, settings: c.Settings, box: c.Box, backend: c.Backend, log: orDiscard(c.Logger), now: time.Now}
}

// List lists the caller's organisation's accounts by group and status.
func (s *Accounts) List(ctx context.Context, group, status, search string, limit, offset int, by Caller) ([]model.Account, error) {
	return s.list(ctx, by.OrgID, store.AccountFilter{Status: status, Search: search, Limit: limit, Offset: offset}, group)
}

// ListOfModel is List narrowed to one security model too ("" for any),
// for the console's filters.
func (s *Accounts) ListOfModel(ctx context.Context, group, status, search, securityModel string, limit, offset int, by Caller) ([]model.Account, error) {
	if securityModel != "" && !model.SecurityModel(securityModel).Valid() {
		return nil, invalid("security_model", "unknown security model %q: want end-to-end or end-to-site", securityModel)
	}
	return s.list(ctx, by.OrgID, store.AccountFilter{Status: status, Search: search, SecurityModel: securityModel, Limit: limit, Offset: offset}, group)
}

// list validates a filter, resolves the group's name, and lists.
func (s *Accounts) list(ctx context.Context, orgID int64, f store.AccountFilter, group string) ([]model.Account, error) {
	if _, err := parsePage(f.Limit, 1000, f.Offset, ""); err != nil {
		return nil, err
	}
	if err := s.resolve(ctx, orgID, &f, group); err != nil {
		return nil, err
	}
	return s.store.Accounts(ctx, orgID, f)
}

// resolve checks a filter's status and sets its group by name.
func (s *Accounts) resolve(ctx context.Context, orgID int64, f *store.AccountFilter, group string) error {
	if f.Status != "" && f.Status != model.StatusDisabled && !validStage(f.Status) {
		return invalid("status", "unknown status %q: want disabled, %s", f.Status, strings.Join(model.Stages, ", "))
	}
	if group != "" {
		g, err := groupByName(ctx, &s.store.Reader, orgID, group)
		if err != nil {
			return invalidFrom("group", err)
		}
		f.GroupID = &g.ID
	}
	return nil
}

func validStage(v string) bool {
	for _, s := range model.Stages {
		if s == v {
			return true
		}
	}
	return false
}

// account finds an account of an organisation by username.
func account(ctx context.Context, r *store.Reader, orgID int64, username string) (*store.AccountRow, error) {
	a, err := r.AccountByUsername(ctx, orgID, username)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("account_not_found", "no account with username %q", username)
	}
	return a, err
}

// Get returns everything an operator sees about an account.
func (s *Accounts) Get(ctx context.Context, username string, by Caller) (*model.AccountDetail, error) {
	a, err := account(ctx, &s.store.Reader, by.OrgID, username)
	if err != nil {
		return nil, err
	}
	d := &model.AccountDetail{Account: a.Account}
	if d.EffectiveProfile, err = effectiveProfile(ctx, &s.store.Reader, a); err != nil {
		return nil, err
	}
	if d.Links, err = s.store.Links(ctx, a.ID); err != nil {
		return nil, err
	}
	if d.Devices, err = s.store.Devices(ctx, a.ID); err != nil {
		return nil, err
	}
	if d.Messages, err = s.store.Messages(ctx, a.OrgID, store.MessageFilter{AccountID: a.ID}); err != nil {
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
func (s *Accounts) Events(ctx context.Context, username string, by Caller) ([]model.Event, error) {
	a, err := account(ctx, &s.store.Reader, by.OrgID, username)
	if err != nil {
		return nil, err
	}
	return s.store.Events(ctx, a.ID)
}

// EffectiveProfile is the profile an account's client receives: the
// account's own, else its group's, else the default.
func (s *Accounts) EffectiveProfile(ctx context.Context, username string, by Caller) (*model.EffectiveProfile, error) {
	a, err := account(ctx, &s.store.Reader, by.OrgID, username)
	if err != nil {
		return nil, err
	}
	ep, err := effectiveProfile(ctx, &s.store.Reader, a)
	return &ep, err
}

// effectiveProfile is the profile an account's client receives.
func effectiveProfile(ctx context.Context, r *store.Reader, a *store.AccountRow) (model.EffectiveProfile, error) {
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
			p, err = r.DefaultProfile(ctx, a.OrgID)
		}
	}
	if err != nil {
		return model.EffectiveProfile{}, fmt.Errorf("reading the effective profile: %w", err)
	}
	return model.EffectiveProfile{Profile: p.Name, Source: source, Settings: p.Settings}, nil
}

// Create makes a wizard account in the caller's organisation: it cannot
// register until a device activates it. The username is generated; the
// virtual number too, unless given.
func (s *Accounts) Create(ctx context.Context, in model.AccountInput, by Caller) (*model.Account, error) {
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	if in.Group == nil || *in.Group == "" {
		return nil, invalid("group", "group is required: every account belongs to one group")
	}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return nil, invalid("name", "name is required")
	}
	a := &store.AccountRow{OrgID: by.OrgID, Account: model.Account{
		Kind: model.AccountWizard, Stage: model.StageNew, SecurityModel: model.EndToEnd,
	}}
	const tries = 20
	for attempt := 1; ; attempt++ {
		err = s.store.Tx(ctx, func(tx *store.Tx) error {
			if err := applyAccount(ctx, &tx.Reader, st, a, in); err != nil {
				return err
			}
			if err := checkAccountQuota(ctx, &tx.Reader, st, 1); err != nil {
				return err
			}
			a.Username = secret.RandomDigits(st.UsernameDigits)
			if in.VirtualNumber == nil || *in.VirtualNumber == "" {
				if a.VirtualNumber, err = freeVirtualNumber(ctx, &tx.Reader, a.OrgID, st.Numbers); err != nil {
					return err
				}
			}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			return tx.AddEvent(ctx, a.OrgID, a.ID, model.EventCreated, by.Name, map[string]string{"group": a.Group})
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
	s.log.InfoContext(ctx, "account created", "username", a.Username, "group", a.Group, "by", by.Name)
	return &a.Account, nil
}

// Update changes the fields given.
func (s *Accounts) Update(ctx context.Context, username string, in model.AccountInput, by Caller) (*model.Account, error) {
	st, err := s.settings.Current(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	var a *store.AccountRow
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if a, err = account(ctx, &tx.Reader, by.OrgID, username); err != nil {
			return err
		}
		if err := applyAccount(ctx, &tx.Reader, st, a, in); err != nil {
			return err
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		return tx.AddEvent(ctx, a.OrgID, a.ID, model.EventEdited, by.Name, nil)
	})
	if err != nil {
		return nil, mapStore("updating account", "", err)
	}
	return &a.Account, nil
}

var virtualNumberRe = regexp.MustCompile(`^\+?[0-9]{2,15}$`)

// applyAccount validates the given fields into a, an account of a.OrgID
// whose settings are st.
func applyAccount(ctx context.Context, r *store.Reader, st *Resolved, a *store.AccountRow, in model.AccountInput) error {
	if in.Group != nil {
		g, err := groupByName(ctx, r, a.OrgID, *in.Group)
		if err != nil {
			return invalidFrom("group", err)
		}
		a.GroupID, a.Group = g.ID, g.Name
	}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if err := checkLine("name", "name", n, true, 200); err != nil {
			return err
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
			p, err := profileByName(ctx, r, a.OrgID, *in.Profile)
			if err != nil {
				return invalidFrom("profile", err)
			}
			a.ProfileID, a.Profile = &p.ID, p.Name
		}
	}
	if in.VirtualNumber != nil && *in.VirtualNumber != "" {
		if !virtualNumberRe.MatchString(*in.VirtualNumber) {
			return invalid("virtual_number", "%q is not a virtual number: 2 to 15 digits, optionally after a +", *in.VirtualNumber)
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
		if p := textProblem("description", *in.Description, 1000); p != "" {
			return invalid("description", "%s", p)
		}
		a.Description = *in.Description
	}
	if in.OneDevice != nil {
		a.OneDevice = *in.OneDevice
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
func freeVirtualNumber(ctx context.Context, r *store.Reader, orgID int64, nr store.NumberRange) (string, error) {
	start, err := randomStart(nr)
	if err != nil {
		return "", err
	}
	n, ok, err := r.FreeVirtualNumber(ctx, orgID, nr, start)
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
func (s *Accounts) SetDisabled(ctx context.Context, username string, disabled bool, by Caller) (*model.Account, error) {
	var a *store.AccountRow
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = account(ctx, &tx.Reader, by.OrgID, username); err != nil {
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
		return tx.AddEvent(ctx, a.OrgID, a.ID, kind, by.Name, nil)
	})
	if err != nil {
		return nil, err
	}
	s.syncSIP(ctx, by.OrgID, username)
	return &a.Account, nil
}

// Delete deletes an account, its links, devices and timeline.
func (s *Accounts) Delete(ctx context.Context, username string, by Caller) error {
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		a, err := account(ctx, &tx.Reader, by.OrgID, username)
		if err != nil {
			return err
		}
		return tx.DeleteAccount(ctx, a.ID)
	})
	if err == nil {
		s.log.InfoContext(ctx, "account deleted", "username", username, "by", by.Name)
		s.syncSIP(ctx, by.OrgID, username)
	}
	return err
}

// Registrations lists an account's live SIP bindings.
func (s *Accounts) Registrations(ctx context.Context, username string, by Caller) ([]model.Registration, error) {
	a, err := account(ctx, &s.store.Reader, by.OrgID, username)
	if err != nil {
		return nil, err
	}
	return s.store.Registrations(ctx, a.ID, s.now())
}
