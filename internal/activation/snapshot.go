package activation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// ErrUnknownTargetKind is Snapshots.Take's answer for a target kind it
// cannot read. It is a bug in the audit table (internal/web/audit), never
// bad input: every kind the table names has a case here, and a test walks
// both route tables to keep it so. A target that does not exist is a not-found *Error instead.
var ErrUnknownTargetKind = errors.New("no audit snapshot for this kind")

// Snapshots reads the current state of anything an operator may change,
// for the audit log's before and after, from the part that keeps it.
type Snapshots struct {
	store     *store.Store
	settings  *Settings
	downloads *Downloads
	groups    *Groups
	profiles  *Profiles
	gateways  *Gateways
	imports   *Imports
	operators *Operators
	orgs      *Organisations
	messages  *Messages
}

// SnapshotsConfig names the parts Snapshots reads.
type SnapshotsConfig struct {
	Store     *store.Store // accounts and API tokens
	Settings  *Settings
	Downloads *Downloads
	Groups    *Groups
	Profiles  *Profiles
	Gateways  *Gateways
	Imports   *Imports
	Operators *Operators
	Orgs      *Organisations
	Messages  *Messages // message templates
}

// NewSnapshots returns the snapshots of what c's parts keep.
func NewSnapshots(c SnapshotsConfig) *Snapshots {
	return &Snapshots{store: c.Store, settings: c.Settings, downloads: c.Downloads, groups: c.Groups, profiles: c.Profiles,
		gateways: c.Gateways, imports: c.Imports, operators: c.Operators, orgs: c.Orgs, messages: c.Messages}
}

// Take is the current state of one thing an operator may change, in the
// caller's organisation, as JSON for the audit log: kind is account,
// group, profile, setting, template, app, operator, import, gateway or token; key
// names it. A kind it does not know is ErrUnknownTargetKind; a key naming
// nothing is a not-found *Error. Secrets are never in it: gateways'
// settings are masked and their receipt key left out, tokens are their
// prefix and metadata.
func (s *Snapshots) Take(ctx context.Context, kind, key string, by Caller) ([]byte, error) {
	v, err := s.snapshot(ctx, kind, key, by)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s %q: %w", kind, key, err)
	}
	return b, nil
}

func (s *Snapshots) snapshot(ctx context.Context, kind, key string, by Caller) (any, error) {
	switch kind {
	case "account":
		a, err := s.store.AccountByUsername(ctx, by.OrgID, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("account_not_found", "no account %q", key)
		}
		if err != nil {
			return nil, err
		}
		// Its devices too: deactivating one, or revoking every key, shows
		// as a device's revoked_at between before and after.
		devs, err := s.store.Devices(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		return struct {
			model.Account
			Devices []model.Device `json:"devices"`
		}{a.Account, devs}, nil
	case "group":
		return s.groupSnapshot(ctx, key, by)
	case "profile":
		return s.profiles.Get(ctx, key, by)
	case "setting":
		list, err := s.settings.List(ctx, by)
		if err != nil {
			return nil, err
		}
		for _, st := range list {
			if st.Key == key {
				return st, nil
			}
		}
		return nil, notFound("setting_not_found", "no setting %q", key)
	case "template":
		return s.messages.Template(ctx, key, by)
	case "app":
		apps, err := s.downloads.List(ctx, by)
		if err != nil {
			return nil, err
		}
		var mine []model.AppURL
		for _, a := range apps {
			if a.Platform == key {
				mine = append(mine, a)
			}
		}
		if len(mine) == 0 {
			return nil, notFound("app_not_found", "no download URL for %q", key)
		}
		return mine, nil
	case "operator":
		return s.operators.Get(ctx, key, by)
	case "import":
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, notFound("import_not_found", "no import %q", key)
		}
		return s.imports.Status(ctx, id, by)
	case "organisation":
		return s.orgs.Get(ctx, key, by)
	case "gateway":
		g, err := s.gateways.Get(ctx, key, by)
		if err != nil {
			return nil, err
		}
		// The receipt URL ends with the key that authenticates the
		// provider's callbacks: it is a secret, and the name it is
		// built from is in the snapshot already. Settings come masked.
		g.ReceiptURL = ""
		return g, nil
	case "token":
		return s.tokenSnapshot(ctx, key, by)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownTargetKind, kind)
}

// groupSnapshot is a group with the gateways its messages go through, so
// routing a group's channel to a gateway is audited with a before.
func (s *Snapshots) groupSnapshot(ctx context.Context, name string, by Caller) (any, error) {
	g, err := s.groups.Get(ctx, name, by)
	if err != nil {
		return nil, err
	}
	gg, err := s.gateways.GroupGateways(ctx, by)
	if err != nil {
		return nil, err
	}
	out := struct {
		model.Group
		Gateways map[string]string `json:"gateways,omitempty"` // channel -> gateway
	}{Group: *g}
	for _, x := range gg {
		if x.Group == g.Name {
			if out.Gateways == nil {
				out.Gateways = map[string]string{}
			}
			out.Gateways[x.Channel] = x.Gateway
		}
	}
	return out, nil
}

// tokenSnapshot is an API token by its id: its prefix, owner, role and
// dates, never the token (only its hash is stored anyway).
func (s *Snapshots) tokenSnapshot(ctx context.Context, key string, by Caller) (any, error) {
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return nil, notFound("token_not_found", "no token %q", key)
	}
	ts, err := s.store.OperatorTokens(ctx, by.OrgID, 0)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.ID == id {
			return tokenOut(t), nil
		}
	}
	return nil, notFound("token_not_found", "no token %d", id)
}
