package activation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/messaging"
	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/secret"
	"github.com/activator-voip/activator/internal/store"
)

// OutboxGateway is the built-in gateway that keeps messages in the
// database; it is the default of both channels until another is set.
const OutboxGateway = "outbox"

var gatewayNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Gateways keeps the message gateways an organisation configured: their
// settings sealed at rest, the groups routed through them, the routing of
// each message, their test sends, and their providers' delivery receipts.
// It builds working gateways for the delivery worker (GatewayLoader).
type Gateways struct {
	store    *store.Store
	settings *Settings
	box      *secret.Box // seals gateway settings and receipt keys
	kinds    messaging.Kinds
	log      *slog.Logger
	now      func() time.Time
}

// GatewaysConfig is what Gateways is made from.
type GatewaysConfig struct {
	Store    *store.Store
	Settings *Settings
	Box      *secret.Box
	// Kinds are the kinds of gateway administrators can configure
	// (internal/app lists them); the domain knows no provider by name.
	Kinds  messaging.Kinds
	Logger *slog.Logger
}

// NewGateways returns the gateways of the organisations in c.Store.
func NewGateways(c GatewaysConfig) *Gateways {
	return &Gateways{store: c.Store, settings: c.Settings, box: c.Box, kinds: c.Kinds, log: orDiscard(c.Logger), now: time.Now}
}

// Kinds lists every kind of gateway with its setting keys.
func (s *Gateways) Kinds() []model.GatewayKind {
	var out []model.GatewayKind
	for _, k := range s.kinds {
		out = append(out, k.Spec())
	}
	return out
}

// List lists the caller's organisation's gateways, secrets masked; the
// receipt keys too, unless the caller is an admin (mayReveal).
func (s *Gateways) List(ctx context.Context, by Caller) ([]model.Gateway, error) {
	rows, err := s.store.Gateways(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	st, groups, err := s.viewContext(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	out := []model.Gateway{}
	for i := range rows {
		g, err := s.gatewayView(&rows[i], st, groups, mayReveal(by))
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, nil
}

// Get shows one gateway, secrets masked, with its receipt URL: whole for
// an admin, who configures it at the provider, its key masked for anyone
// else, who could mark messages delivered with it.
func (s *Gateways) Get(ctx context.Context, name string, by Caller) (*model.Gateway, error) {
	row, err := gatewayRow(ctx, &s.store.Reader, by.OrgID, name)
	if err != nil {
		return nil, err
	}
	st, groups, err := s.viewContext(ctx, by.OrgID)
	if err != nil {
		return nil, err
	}
	return s.gatewayView(row, st, groups, mayReveal(by))
}

// viewContext is what showing an organisation's gateways needs besides
// their rows: the settings (for receipt URLs) and the groups' routing.
func (s *Gateways) viewContext(ctx context.Context, orgID int64) (*Resolved, []model.GroupGateway, error) {
	st, err := s.settings.Current(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	groups, err := s.store.GroupGateways(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	return st, groups, nil
}

// gatewayRow finds a gateway of an organisation by name.
func gatewayRow(ctx context.Context, r *store.Reader, orgID int64, name string) (*store.GatewayRow, error) {
	row, err := r.GatewayByName(ctx, orgID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("gateway_not_found", "no gateway named %q", name)
	}
	return row, err
}

func (s *Gateways) gatewayView(row *store.GatewayRow, st *Resolved, groups []model.GroupGateway, revealKey bool) (*model.Gateway, error) {
	spec, ok := s.kinds.Find(row.KindName)
	if !ok {
		return nil, fmt.Errorf("gateway %s: unknown stored kind %q", row.Name, row.KindName)
	}
	settings, key, err := s.openGateway(row)
	if err != nil {
		return nil, err
	}
	g := &model.Gateway{ID: row.ID, Name: row.Name, KindName: row.KindName, Channel: row.Channel, DefaultFor: row.DefaultFor,
		Settings: spec.Mask(settings), CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, ReceiptSet: spec.Receipts}
	if spec.Receipts != messaging.ReceiptNone {
		if !revealKey {
			key = secret.Display(key)
		}
		g.ReceiptURL = receiptURL(st.BaseURL, row.Name, key)
	}
	for _, gg := range groups {
		if gg.Gateway == row.Name {
			g.Groups = append(g.Groups, gg.Group)
		}
	}
	return g, nil
}

// receiptURL is where a gateway's provider posts delivery receipts. The key
// in the path authenticates providers that do not sign their callbacks.
func receiptURL(base, name, key string) string {
	return strings.TrimRight(base, "/") + "/api/v1/receipts/" + url.PathEscape(name) + "/" + key
}

func (s *Gateways) openGateway(row *store.GatewayRow) (map[string]string, string, error) {
	plain, err := s.box.Open(row.Settings)
	if err != nil {
		return nil, "", fmt.Errorf("gateway %s: opening its settings (was the secret key changed?): %w", row.Name, err)
	}
	var settings map[string]string
	if err := json.Unmarshal(plain, &settings); err != nil {
		return nil, "", fmt.Errorf("gateway %s: stored settings: %w", row.Name, err)
	}
	key, err := s.box.Open(row.ReceiptKey)
	if err != nil {
		return nil, "", fmt.Errorf("gateway %s: opening its receipt key: %w", row.Name, err)
	}
	return settings, string(key), nil
}

func (s *Gateways) sealSettings(settings map[string]string) ([]byte, error) {
	b, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	return s.box.Seal(b), nil
}

func settingError(err error) error {
	var se *messaging.SettingError
	if errors.As(err, &se) {
		return invalid("settings."+se.Key, "%s", se.Error())
	}
	return invalid("settings", "%s", err.Error())
}

func checkDefaultFor(spec messaging.Kind, v string) error {
	if v != "" && v != spec.Channel {
		return invalid("default_for", "a %s gateway carries %s; it can be the default for %s only (or \"\")", spec.Name, spec.Channel, spec.Channel)
	}
	return nil
}

// Create configures a gateway. Its settings are checked for its kind and
// sealed at rest; a random receipt key is made for its callback URL.
func (s *Gateways) Create(ctx context.Context, in model.GatewayInput, by Caller) (*model.Gateway, error) {
	if in.Name == nil {
		return nil, invalid("name", "name is required: 1 to 63 lower-case letters, digits, '.', '_' or '-'")
	}
	if err := validGatewayName(*in.Name); err != nil {
		return nil, err
	}
	if *in.Name == OutboxGateway {
		return nil, conflict("already_exists", "name", "%q is the built-in gateway's name", OutboxGateway)
	}
	if in.KindName == nil {
		return nil, invalid("kind", "kind is required: one of %s", s.kindNames())
	}
	spec, ok := s.kinds.Find(*in.KindName)
	if !ok {
		return nil, invalid("kind", "unknown kind %q: want one of %s", *in.KindName, s.kindNames())
	}
	settings := map[string]string{}
	for k, v := range in.Settings {
		if v != "" {
			settings[k] = strings.TrimSpace(v)
		}
	}
	if err := spec.Validate(settings); err != nil {
		return nil, settingError(err)
	}
	def := ""
	if in.DefaultFor != nil {
		def = *in.DefaultFor
	}
	if err := checkDefaultFor(spec, def); err != nil {
		return nil, err
	}
	sealed, err := s.sealSettings(settings)
	if err != nil {
		return nil, err
	}
	key, _ := secret.NewToken(secret.PrefixReceiptKey)
	row := &store.GatewayRow{OrgID: by.OrgID, Name: *in.Name, KindName: spec.Name, Channel: spec.Channel, Settings: sealed,
		ReceiptKey: s.box.Seal([]byte(key)), DefaultFor: def}
	err = s.store.Tx(ctx, func(tx *store.Tx) error {
		if def != "" {
			if err := tx.ClearDefaultGateway(ctx, row.OrgID, def); err != nil {
				return err
			}
		}
		return mapStore("creating gateway", "name", tx.CreateGateway(ctx, row))
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "gateway configured", "gateway", row.Name, "kind", row.KindName, "default_for", def)
	return s.Get(ctx, row.Name, by)
}

// Update renames a gateway, changes its default, and merges settings into
// it: an empty value removes a key; the masked value keeps a secret as is.
func (s *Gateways) Update(ctx context.Context, name string, in model.GatewayInput, by Caller) (*model.Gateway, error) {
	if in.KindName != nil {
		return nil, invalid("kind", "a gateway's kind cannot change; delete it and add a new one")
	}
	var newName string
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		row, err := gatewayRow(ctx, &tx.Reader, by.OrgID, name)
		if err != nil {
			return err
		}
		spec, _ := s.kinds.Find(row.KindName)
		settings, _, err := s.openGateway(row)
		if err != nil {
			return err
		}
		for k, v := range in.Settings {
			switch v = strings.TrimSpace(v); v {
			case "":
				delete(settings, k)
			case messaging.Masked:
				// shown masked, sent back unchanged: keep the stored secret
			default:
				settings[k] = v
			}
		}
		if err := spec.Validate(settings); err != nil {
			return settingError(err)
		}
		if in.Name != nil {
			if err := validGatewayName(*in.Name); err != nil {
				return err
			}
			if *in.Name == OutboxGateway {
				return conflict("already_exists", "name", "%q is the built-in gateway's name", OutboxGateway)
			}
			row.Name = *in.Name
		}
		if in.DefaultFor != nil {
			if err := checkDefaultFor(spec, *in.DefaultFor); err != nil {
				return err
			}
			if *in.DefaultFor != "" && row.DefaultFor != *in.DefaultFor {
				if err := tx.ClearDefaultGateway(ctx, row.OrgID, *in.DefaultFor); err != nil {
					return err
				}
			}
			row.DefaultFor = *in.DefaultFor
		}
		if row.Settings, err = s.sealSettings(settings); err != nil {
			return err
		}
		newName = row.Name
		return mapStore("changing gateway", "name", tx.UpdateGateway(ctx, row))
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "gateway changed", "gateway", newName)
	return s.Get(ctx, newName, by)
}

// Delete removes a gateway no group is routed through. Queued messages
// naming it fail when they come due.
func (s *Gateways) Delete(ctx context.Context, name string, by Caller) error {
	return s.store.Tx(ctx, func(tx *store.Tx) error {
		row, err := gatewayRow(ctx, &tx.Reader, by.OrgID, name)
		if err != nil {
			return err
		}
		err = tx.DeleteGateway(ctx, row.ID)
		if errors.Is(err, store.ErrInUse) {
			return conflict("in_use", "", "gateway %s is still a group's gateway; remove it from the group first (activator gateway unassign)", name)
		}
		return err
	})
}

// GroupGateways lists every group's own gateways.
func (s *Gateways) GroupGateways(ctx context.Context, by Caller) ([]model.GroupGateway, error) {
	return s.store.GroupGateways(ctx, by.OrgID)
}

// SetGroupGateway routes a group's messages on channel through gateway;
// an empty gateway removes the override.
func (s *Gateways) SetGroupGateway(ctx context.Context, group, channel, gateway string, by Caller) error {
	if channel != model.ChannelSMS && channel != model.ChannelEmail {
		return invalid("channel", "unknown channel %q: want sms or email", channel)
	}
	return s.store.Tx(ctx, func(tx *store.Tx) error {
		g, err := groupByName(ctx, &tx.Reader, by.OrgID, group)
		if err != nil {
			return err
		}
		if gateway == "" {
			_, err := tx.DeleteGroupGateway(ctx, g.ID, channel)
			return err
		}
		row, err := tx.GatewayByName(ctx, by.OrgID, gateway)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("gateway", "no gateway named %q", gateway)
		}
		if err != nil {
			return err
		}
		if row.Channel != channel {
			return invalid("gateway", "gateway %s carries %s, not %s", gateway, row.Channel, channel)
		}
		return tx.SetGroupGateway(ctx, g.ID, channel, row.ID)
	})
}

// route picks the gateway of a message of an organisation: the one asked
// for this send, else the group's, else the channel's default, else the outbox.
func (s *Gateways) route(ctx context.Context, r *store.Reader, orgID int64, override, channel string, groupID int64) (string, error) {
	if override != "" {
		if override == OutboxGateway {
			return override, nil
		}
		row, err := r.GatewayByName(ctx, orgID, override)
		if errors.Is(err, store.ErrNotFound) {
			return "", invalid("gateway", "no gateway named %q", override)
		}
		if err != nil {
			return "", err
		}
		if row.Channel != channel {
			return "", invalid("gateway", "gateway %s carries %s, not %s", override, row.Channel, channel)
		}
		return row.Name, nil
	}
	name, err := r.GroupGatewayName(ctx, groupID, channel)
	if err != nil || name != "" {
		return name, err
	}
	row, err := r.DefaultGateway(ctx, orgID, channel)
	if err == nil {
		return row.Name, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return OutboxGateway, nil
}

func (s *Gateways) kindNames() string {
	var names []string
	for _, k := range s.kinds {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

// buildGateway makes a working gateway from a stored row.
func (s *Gateways) buildGateway(row *store.GatewayRow, settings map[string]string, key string, o messaging.Options) (messaging.Gateway, error) {
	spec, ok := s.kinds.Find(row.KindName)
	if !ok {
		return nil, messaging.Permanent(fmt.Errorf("gateway %s: unknown kind %q", row.Name, row.KindName))
	}
	full := spec.WithDefaults(settings)
	if spec.Receipts == messaging.ReceiptPerMessage && o.ReceiptURL == nil {
		o.ReceiptURL = func(m *model.Message) string {
			st, err := s.settings.Current(context.Background(), row.OrgID)
			if err != nil {
				return ""
			}
			return receiptURL(st.BaseURL, row.Name, key) + "?m=" + strconv.FormatInt(m.ID, 10)
		}
	}
	if spec.New == nil {
		return nil, messaging.Permanent(fmt.Errorf("gateway %s: no adapter for kind %q", row.Name, spec.Name))
	}
	g, err := spec.New(row.Name, full, o)
	if err != nil {
		return nil, messaging.Permanent(fmt.Errorf("gateway %s: %w", row.Name, err))
	}
	rate, _ := strconv.ParseFloat(full["rate_limit"], 64)
	return messaging.WithRateLimit(g, rate), nil
}

// Test sends a test message through a gateway now, outside the queue, and
// returns what the provider answered.
func (s *Gateways) Test(ctx context.Context, name, to string, by Caller) (*model.GatewayTestResult, error) {
	var o messaging.Options
	row, err := gatewayRow(ctx, &s.store.Reader, by.OrgID, name)
	if err != nil {
		return nil, err
	}
	to = strings.TrimSpace(to)
	m := &model.Message{Channel: row.Channel, Kind: model.MessageTest, Gateway: row.Name, Recipient: to}
	st, err := s.settings.Current(ctx, row.OrgID)
	if err != nil {
		return nil, err
	}
	if row.Channel == model.ChannelSMS {
		if _, err := messaging.Digits(to); err != nil || !strings.HasPrefix(to, "+") {
			return nil, invalid("to", "want a mobile number in international form, such as +393331234567")
		}
		m.Body = fmt.Sprintf("%s: test message from activator through gateway %s.", st.Company, row.Name)
	} else {
		if !strings.Contains(to, "@") || strings.ContainsAny(to, "\r\n") {
			return nil, invalid("to", "want an e-mail address")
		}
		m.Subject = fmt.Sprintf("%s: activator test message", st.Company)
		m.Body = fmt.Sprintf("This is a test message from activator, sent through gateway %s.\n", row.Name)
	}
	settings, key, err := s.openGateway(row)
	if err != nil {
		return nil, err
	}
	o.ReceiptURL = func(*model.Message) string { return "" } // a test message has no row to update
	gw, err := s.buildGateway(row, settings, key, o)
	if err != nil {
		return nil, invalid("settings", "%s", err.Error())
	}
	res := &model.GatewayTestResult{Gateway: row.Name, To: to}
	if row.Channel == model.ChannelSMS {
		res.Encoding, res.Segments = messaging.SMSSegments(m.Body)
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	id, err := gw.Send(sctx, m)
	if err != nil {
		var p *messaging.PermanentError
		res.Error, res.Permanent = err.Error(), errors.As(err, &p)
		s.log.WarnContext(ctx, "gateway test failed", "gateway", row.Name, "err", err)
		return res, nil
	}
	res.OK, res.ProviderID = true, id
	s.log.InfoContext(ctx, "gateway test sent", "gateway", row.Name, "provider_id", id)
	return res, nil
}
