package activation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Organisations is the provider's side: the organisations (its customers)
// a provider admin creates, renames, suspends, resumes and deletes, their
// counts, and acting inside one of them. Every method but ActIn needs the
// orgs permission, which only the provider role holds.
type Organisations struct {
	store    *store.Store
	settings *Settings
	log      *slog.Logger
	now      func() time.Time
}

// NewOrganisations returns the organisations of st.
func NewOrganisations(st *store.Store, settings *Settings, log *slog.Logger) *Organisations {
	return &Organisations{store: st, settings: settings, log: orDiscard(log), now: time.Now}
}

// slugRe is an organisation's slug: lowercase letters, digits and inner
// hyphens, not all digits (so a slug and an id never read alike).
var slugRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func validSlug(v string) error {
	if !slugRe.MatchString(v) {
		return invalid("slug", "slug %q: want 1 to 63 lowercase letters, digits and inner hyphens, like acme or acme-eu", v)
	}
	if _, err := strconv.ParseUint(v, 10, 64); err == nil {
		return invalid("slug", "slug %q: a slug needs a letter, so it never reads as an organisation's id", v)
	}
	return nil
}

// ErrNotProvider refuses an organisation's operator what only the
// provider's may do.
var ErrNotProvider = &Error{Kind: KindForbidden, Code: "forbidden", Message: "only a provider admin manages organisations"}

// orgOut is an organisation as shown, without the organisations it may
// call (withCalls adds them).
func orgOut(o *store.OrganisationRow) model.Organisation {
	return model.Organisation{ID: o.ID, Slug: o.Slug, Name: o.Name, Suspended: o.SuspendedAt != nil, SuspendedAt: o.SuspendedAt,
		MaxAccounts: o.MaxAccounts, MaxMessagesPerDay: o.MaxMessagesPerDay, AllowCallsTo: []string{}, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// withCalls is orgOut with the slugs of the organisations o may call.
func withCalls(ctx context.Context, r *store.Reader, o *store.OrganisationRow) (model.Organisation, error) {
	out := orgOut(o)
	if len(o.AllowCallsTo) == 0 {
		return out, nil
	}
	all, err := r.Organisations(ctx)
	if err != nil {
		return out, err
	}
	slugOf := map[int64]string{}
	for _, x := range all {
		slugOf[x.ID] = x.Slug
	}
	for _, id := range o.AllowCallsTo {
		if slug, ok := slugOf[id]; ok {
			out.AllowCallsTo = append(out.AllowCallsTo, slug)
		}
	}
	return out, nil
}

// callsTo resolves the slugs (or ids) of the organisations o's accounts
// may call into their ids, in the order given, each once; o itself and
// unknown ones are refused on allow_calls_to.
func callsTo(ctx context.Context, r *store.Reader, o *store.OrganisationRow, refs []string) ([]int64, error) {
	ids := []int64{}
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		x, err := organisation(ctx, r, ref)
		var de *Error
		if errors.As(err, &de) && de.Kind == KindNotFound {
			return nil, invalid("allow_calls_to", "allow_calls_to: no organisation %q", ref)
		}
		if err != nil {
			return nil, err
		}
		if x.ID == o.ID {
			return nil, invalid("allow_calls_to", "allow_calls_to: %s is the organisation itself, whose accounts always call each other", ref)
		}
		if !slices.Contains(ids, x.ID) {
			ids = append(ids, x.ID)
		}
	}
	return ids, nil
}

// organisation finds an organisation by slug, or by id when ref is all
// digits.
func organisation(ctx context.Context, r *store.Reader, ref string) (*store.OrganisationRow, error) {
	var (
		o   *store.OrganisationRow
		err error
	)
	if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		o, err = r.OrganisationByID(ctx, id)
	} else {
		o, err = r.OrganisationBySlug(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("organisation_not_found", "no organisation %q", ref)
	}
	return o, err
}

// List lists every organisation by slug.
func (s *Organisations) List(ctx context.Context, by Caller) ([]model.Organisation, error) {
	if !RoleAllows(by.Role, PermOrgs) {
		return nil, ErrNotProvider
	}
	rows, err := s.store.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	slugOf := map[int64]string{}
	for _, o := range rows {
		slugOf[o.ID] = o.Slug
	}
	out := make([]model.Organisation, len(rows))
	for i := range rows {
		out[i] = orgOut(&rows[i])
		for _, id := range rows[i].AllowCallsTo {
			if slug, ok := slugOf[id]; ok {
				out[i].AllowCallsTo = append(out[i].AllowCallsTo, slug)
			}
		}
	}
	return out, nil
}

// Get finds an organisation by slug or id.
func (s *Organisations) Get(ctx context.Context, ref string, by Caller) (*model.Organisation, error) {
	if !RoleAllows(by.Role, PermOrgs) {
		return nil, ErrNotProvider
	}
	o, err := organisation(ctx, &s.store.Reader, ref)
	if err != nil {
		return nil, err
	}
	out, err := withCalls(ctx, &s.store.Reader, o)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Create makes an organisation with its default profile and, when given,
// its SIP domain and public base URL, all or nothing.
func (s *Organisations) Create(ctx context.Context, in model.OrganisationInput, by Caller) (*model.Organisation, error) {
	if !RoleAllows(by.Role, PermOrgs) {
		return nil, ErrNotProvider
	}
	if in.Name == nil {
		return nil, invalid("name", "name is required")
	}
	if in.Slug == nil {
		return nil, invalid("slug", "slug is required")
	}
	o := &store.OrganisationRow{}
	if err := applyOrganisation(o, in); err != nil {
		return nil, err
	}
	settings := map[string]*string{model.SettingSIPDomain: in.SIPDomain, model.SettingPublicBaseURL: in.BaseURL}
	values := map[string]string{}
	for key, v := range settings {
		if v == nil {
			continue
		}
		_, value, err := checkSetting(key, *v)
		if err != nil {
			var de *Error
			if errors.As(err, &de) {
				de.Field = map[string]string{model.SettingSIPDomain: "sip_domain", model.SettingPublicBaseURL: "base_url"}[key]
			}
			return nil, err
		}
		values[key] = value
	}
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		if err := s.settings.sipDomainFree(ctx, tx, 0, values[model.SettingSIPDomain], "sip_domain"); err != nil {
			return err
		}
		if in.AllowCallsTo != nil {
			var err error
			if o.AllowCallsTo, err = callsTo(ctx, &tx.Reader, o, *in.AllowCallsTo); err != nil {
				return err
			}
		}
		if err := tx.CreateOrganisation(ctx, o); err != nil {
			return err
		}
		p := &model.Profile{Name: "default", IsDefault: true, Settings: model.DefaultProfileSettings()}
		if err := tx.CreateProfile(ctx, o.ID, p); err != nil {
			return err
		}
		for key, v := range values {
			if err := tx.PutSetting(ctx, o.ID, key, v); err != nil {
				return err
			}
		}
		return nil
	})
	if de := sipDomainError(err, "sip_domain"); de != nil {
		return nil, de
	}
	if err != nil {
		return nil, mapStore("creating organisation", "name", err)
	}
	s.settings.invalidate(o.ID)
	s.log.InfoContext(ctx, "organisation created", "organisation", o.Slug, "by", by.Name)
	out, err := withCalls(ctx, &s.store.Reader, o)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// applyOrganisation validates the name and slug given into o.
func applyOrganisation(o *store.OrganisationRow, in model.OrganisationInput) error {
	if in.Name != nil {
		if p := lineProblem("name", *in.Name, true, 100); p != "" {
			return invalid("name", "%s", p)
		}
		o.Name = *in.Name
	}
	if in.Slug != nil {
		if err := validSlug(*in.Slug); err != nil {
			return err
		}
		o.Slug = *in.Slug
	}
	for _, q := range []struct {
		field string
		in    *int64
		to    *int64
	}{{"max_accounts", in.MaxAccounts, &o.MaxAccounts}, {"max_messages_per_day", in.MaxMessagesPerDay, &o.MaxMessagesPerDay}} {
		if q.in == nil {
			continue
		}
		if *q.in < 0 {
			return invalid(q.field, "%s %d: want 0 (no quota) or more", q.field, *q.in)
		}
		*q.to = *q.in
	}
	return nil
}

// Quota refusals name the quota, its organisation and what to do.
func errAccountQuota(o *store.OrganisationRow) error {
	return &Error{Kind: KindConflict, Code: "quota_exceeded", Field: "max_accounts", Message: fmt.Sprintf(
		"organisation %s may have at most %d accounts (its max_accounts quota): delete some, or ask the provider to raise it", o.Slug, o.MaxAccounts)}
}

func errMessageQuota(o *store.OrganisationRow) error {
	return &Error{Kind: KindConflict, Code: "quota_exceeded", Field: "max_messages_per_day", Message: fmt.Sprintf(
		"organisation %s may queue at most %d messages a day (its max_messages_per_day quota): try again tomorrow (UTC), or ask the provider to raise it",
		o.Slug, o.MaxMessagesPerDay)}
}

// checkAccountQuota refuses adding accounts to st's organisation past its
// max_accounts quota. It reads the maintained counts, not the accounts.
func checkAccountQuota(ctx context.Context, r *store.Reader, st *Resolved, adding int) error {
	o := &st.Organisation
	if o.MaxAccounts <= 0 {
		return nil
	}
	counts, err := r.AccountCounts(ctx, o.ID)
	if err != nil {
		return err
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if int64(total+adding) > o.MaxAccounts {
		return errAccountQuota(o)
	}
	return nil
}

// checkMessageQuota refuses queueing a message past st's organisation's
// max_messages_per_day quota (days in UTC).
func checkMessageQuota(ctx context.Context, r *store.Reader, st *Resolved, now time.Time) error {
	o := &st.Organisation
	if o.MaxMessagesPerDay <= 0 {
		return nil
	}
	n, err := r.MessagesQueuedSince(ctx, o.ID, now.UTC().Truncate(24*time.Hour))
	if err != nil {
		return err
	}
	if n >= o.MaxMessagesPerDay {
		return errMessageQuota(o)
	}
	return nil
}

// Update renames an organisation or changes its slug. Its settings are
// changed as any organisation's are, acting inside it.
func (s *Organisations) Update(ctx context.Context, ref string, in model.OrganisationInput, by Caller) (*model.Organisation, error) {
	if !RoleAllows(by.Role, PermOrgs) {
		return nil, ErrNotProvider
	}
	if in.SIPDomain != nil || in.BaseURL != nil {
		return nil, invalid("sip_domain", "an organisation's settings change as settings do: act inside it (--org) and set sip_domain or public_base_url")
	}
	var o *store.OrganisationRow
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if o, err = organisation(ctx, &tx.Reader, ref); err != nil {
			return err
		}
		if err := applyOrganisation(o, in); err != nil {
			return err
		}
		if in.AllowCallsTo != nil {
			if o.AllowCallsTo, err = callsTo(ctx, &tx.Reader, o, *in.AllowCallsTo); err != nil {
				return err
			}
		}
		return mapStore("updating organisation", "name", tx.UpdateOrganisation(ctx, o))
	})
	if err != nil {
		return nil, err
	}
	s.settings.invalidate(o.ID)
	if in.AllowCallsTo != nil {
		s.log.InfoContext(ctx, "organisation's calls to others set", "organisation", o.Slug, "allow_calls_to", strings.Join(*in.AllowCallsTo, ","), "by", by.Name)
	}
	out, err := withCalls(ctx, &s.store.Reader, o)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetSuspended suspends an organisation (its operators, tokens, links and
// devices are refused until it is resumed; nothing is deleted) or resumes
// it. The default organisation, the provider's own, is never suspended.
func (s *Organisations) SetSuspended(ctx context.Context, ref string, suspended bool, by Caller) (*model.Organisation, error) {
	if !RoleAllows(by.Role, PermOrgs) {
		return nil, ErrNotProvider
	}
	var o *store.OrganisationRow
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if o, err = organisation(ctx, &tx.Reader, ref); err != nil {
			return err
		}
		if suspended && o.ID == model.DefaultOrgID {
			return &Error{Kind: KindConflict, Code: "default_organisation", Message: "the default organisation is the provider's own: it cannot be suspended"}
		}
		if suspended {
			err = tx.SuspendOrganisation(ctx, o.ID)
		} else {
			err = tx.ResumeOrganisation(ctx, o.ID)
		}
		if err != nil {
			return err
		}
		o, err = tx.OrganisationByID(ctx, o.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.settings.invalidate(o.ID)
	s.log.InfoContext(ctx, "organisation suspended or resumed", "organisation", o.Slug, "suspended", suspended, "by", by.Name)
	out, err := withCalls(ctx, &s.store.Reader, o)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes an organisation that has nothing left: no accounts, and
// no operators, tokens, groups or gateways (delete those first, acting
// inside it). The default organisation is never deleted.
func (s *Organisations) Delete(ctx context.Context, ref string, by Caller) error {
	if !RoleAllows(by.Role, PermOrgs) {
		return ErrNotProvider
	}
	var id int64
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		o, err := organisation(ctx, &tx.Reader, ref)
		if err != nil {
			return err
		}
		id = o.ID
		return tx.DeleteOrganisation(ctx, o.ID)
	})
	switch {
	case errors.Is(err, store.ErrDefaultOrganisation):
		return &Error{Kind: KindConflict, Code: "default_organisation", Message: "the default organisation is the provider's own: it cannot be deleted"}
	case errors.Is(err, store.ErrOrganisationHasAccounts):
		return &Error{Kind: KindConflict, Code: "organisation_has_accounts", Message: "organisation " + ref + " still has accounts: delete them first"}
	case errors.Is(err, store.ErrInUse):
		return &Error{Kind: KindConflict, Code: "in_use", Message: "organisation " + ref + " still has operators, tokens, groups, gateways or imports: delete them first"}
	}
	if err == nil {
		s.settings.invalidate(id)
		s.log.InfoContext(ctx, "organisation deleted", "organisation", ref, "by", by.Name)
	}
	return err
}

// Stats counts one organisation's accounts by status, messages by state
// and activations on each of the last model.StatsDays days.
func (s *Organisations) Stats(ctx context.Context, ref string, by Caller) (*model.OrganisationStats, error) {
	if !RoleAllows(by.Role, PermOrgs) {
		return nil, ErrNotProvider
	}
	o, err := organisation(ctx, &s.store.Reader, ref)
	if err != nil {
		return nil, err
	}
	st := &model.OrganisationStats{}
	if st.Organisation, err = withCalls(ctx, &s.store.Reader, o); err != nil {
		return nil, err
	}
	if st.Accounts, err = s.store.AccountCounts(ctx, o.ID); err != nil {
		return nil, err
	}
	if st.Messages, err = s.store.MessageStateCounts(ctx, o.ID); err != nil {
		return nil, err
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, 1-model.StatsDays)
	perDay, err := s.store.ActivationsPerDay(ctx, o.ID, first)
	if err != nil {
		return nil, err
	}
	for d := first; !d.After(today); d = d.AddDate(0, 0, 1) {
		st.Activations = append(st.Activations, model.DayCount{Day: d.Format(time.DateOnly), Count: perDay[d]})
	}
	return st, nil
}

// ActIn is by acting inside the organisation ref names: a provider admin
// in any organisation (suspended too, to set it right), anyone else only
// in their own. What by does there is audited there, under by's name and
// role.
func (s *Organisations) ActIn(ctx context.Context, ref string, by Caller) (Caller, error) {
	if by.Role != model.RoleProvider {
		o, err := organisation(ctx, &s.store.Reader, ref)
		if err == nil && o.ID == by.OrgID {
			return by, nil
		}
		// The same answer whether ref exists or not: an organisation's
		// operator learns nothing of the others.
		return by, &Error{Kind: KindForbidden, Code: "forbidden", Message: "only a provider admin acts inside another organisation"}
	}
	o, err := organisation(ctx, &s.store.Reader, ref)
	if err != nil {
		return by, err
	}
	by.OrgID = o.ID
	return by, nil
}

// ErrOrganisationSuspended refuses what an operator, token, link or
// device of a suspended organisation asks.
var ErrOrganisationSuspended = &Error{Kind: KindForbidden, Code: "organisation_suspended",
	Message: "this organisation's service is suspended: ask its provider"}
