package activation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Profiles keeps the provisioning profiles: the client settings a group
// or an account gets, one of them the organisation's default.
type Profiles struct {
	store *store.Store
}

// NewProfiles returns the profiles of the organisations in st.
func NewProfiles(st *store.Store) *Profiles { return &Profiles{store: st} }

// List lists the caller's organisation's profiles.
func (ps *Profiles) List(ctx context.Context, by Caller) ([]model.Profile, error) {
	return ps.store.Profiles(ctx, by.OrgID)
}

// profileByName finds a profile of an organisation by name.
func profileByName(ctx context.Context, r *store.Reader, orgID int64, name string) (*model.Profile, error) {
	p, err := r.ProfileByName(ctx, orgID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("profile_not_found", "no profile named %q", name)
	}
	return p, err
}

// Get finds a profile by name.
func (ps *Profiles) Get(ctx context.Context, name string, by Caller) (*model.Profile, error) {
	return profileByName(ctx, &ps.store.Reader, by.OrgID, name)
}

// Create makes a profile from the defaults with patch (a partial settings
// JSON object) merged over them.
func (ps *Profiles) Create(ctx context.Context, name string, patch json.RawMessage, by Caller) (*model.Profile, error) {
	if err := validName("name", name); err != nil {
		return nil, err
	}
	settings, err := mergeSettings(model.DefaultProfileSettings(), patch)
	if err != nil {
		return nil, err
	}
	p := &model.Profile{Name: name, Settings: settings}
	err = ps.store.Tx(ctx, func(tx *store.Tx) error { return tx.CreateProfile(ctx, by.OrgID, p) })
	if err != nil {
		return nil, mapStore("creating profile", "name", err)
	}
	return p, nil
}

// Update renames a profile and merges patch into its settings.
func (ps *Profiles) Update(ctx context.Context, name string, newName *string, patch json.RawMessage, by Caller) (*model.Profile, error) {
	var p *model.Profile
	err := ps.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = profileByName(ctx, &tx.Reader, by.OrgID, name); err != nil {
			return err
		}
		if newName != nil {
			if err := validName("name", *newName); err != nil {
				return err
			}
			p.Name = *newName
		}
		if len(patch) > 0 {
			if p.Settings, err = mergeSettings(p.Settings, patch); err != nil {
				return err
			}
		}
		return mapStore("updating profile", "name", tx.UpdateProfile(ctx, p))
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Delete deletes a profile no group or account uses; never the default.
func (ps *Profiles) Delete(ctx context.Context, name string, by Caller) error {
	return ps.store.Tx(ctx, func(tx *store.Tx) error {
		p, err := profileByName(ctx, &tx.Reader, by.OrgID, name)
		if err != nil {
			return err
		}
		if p.IsDefault {
			return conflict("default_profile", "", "profile %q is the default profile and cannot be deleted", name)
		}
		err = tx.DeleteProfile(ctx, p.ID)
		if errors.Is(err, store.ErrInUse) {
			return conflict("in_use", "", "profile %q is used by groups or accounts; move them to another profile first", name)
		}
		return mapStore("deleting profile", "", err)
	})
}

// mergeSettings merges a partial settings object into base and validates
// the result. Unknown keys are refused by name.
func mergeSettings(base model.ProfileSettings, patch json.RawMessage) (model.ProfileSettings, error) {
	if len(bytes.TrimSpace(patch)) == 0 || string(bytes.TrimSpace(patch)) == "null" {
		return base, validateSettings(base)
	}
	var patchMap map[string]any
	if err := json.Unmarshal(patch, &patchMap); err != nil {
		return base, invalid("settings", "settings must be a JSON object: %v", err)
	}
	baseJSON, err := json.Marshal(base)
	if err != nil {
		return base, fmt.Errorf("encoding settings: %w", err)
	}
	var baseMap map[string]any
	if err := json.Unmarshal(baseJSON, &baseMap); err != nil {
		return base, fmt.Errorf("decoding settings: %w", err)
	}
	merged, err := json.Marshal(deepMerge(baseMap, patchMap))
	if err != nil {
		return base, fmt.Errorf("encoding settings: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	var out model.ProfileSettings
	if err := dec.Decode(&out); err != nil {
		return base, invalid(settingsField(err), "settings: %s", jsonMessage(err))
	}
	return out, validateSettings(out)
}

// deepMerge merges patch into base: objects merge key by key, anything else
// (lists included) replaces.
func deepMerge(base, patch map[string]any) map[string]any {
	for k, v := range patch {
		if pm, ok := v.(map[string]any); ok {
			if bm, ok := base[k].(map[string]any); ok {
				base[k] = deepMerge(bm, pm)
				continue
			}
		}
		base[k] = v
	}
	return base
}

func settingsField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "settings." + te.Field
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "settings." + strings.Trim(f, `"`)
	}
	return "settings"
}

// jsonMessage words a decoding error for people.
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be %s, not %s", te.Field, te.Type.String(), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func validateSettings(p model.ProfileSettings) error {
	if p.CustomerServiceEmail == "" {
		return invalid("settings.customer_service_email", "the customer service e-mail is required")
	}
	if err := validEmail("settings.customer_service_email", p.CustomerServiceEmail); err != nil {
		return err
	}
	if err := checkLine("settings.customer_service_phone", "the customer service phone", p.CustomerServicePhone, false, 40); err != nil {
		return err
	}
	switch p.Logging {
	case "off", "errors", "debug":
	default:
		return invalid("settings.logging", "logging must be off, errors or debug, not %q", p.Logging)
	}
	if p.Privacy.HistorySize < 0 || p.Privacy.HistorySize > 100000 {
		return invalid("settings.privacy.history_size", "history size must be from 0 to 100000")
	}
	if p.PIN.AskAfterIdleMinutes < 0 || p.PIN.AskAfterIdleMinutes > 1440 {
		return invalid("settings.pin.ask_after_idle_minutes", "must be from 0 to 1440 minutes")
	}
	if p.PIN.Attempts < 1 || p.PIN.Attempts > 100 {
		return invalid("settings.pin.attempts", "must be from 1 to 100")
	}
	if p.PIN.LockoutMinutes < 0 || p.PIN.LockoutMinutes > 1440 {
		return invalid("settings.pin.lockout_minutes", "must be from 0 to 1440 minutes")
	}
	if err := checkLine("settings.oem_licence_code", "the OEM licence code", p.OEMLicenceCode, false, 200); err != nil {
		return err
	}
	if p.KeepAliveSeconds < 0 || p.KeepAliveSeconds > 3600 {
		return invalid("settings.keep_alive_seconds", "must be from 0 to 3600")
	}
	if p.RTPObfuscation != "off" && p.RTPObfuscation != "on" {
		return invalid("settings.rtp_obfuscation", "must be off or on, not %q", p.RTPObfuscation)
	}
	for _, c := range p.Codecs {
		if err := checkLine("settings.codecs", "a codec name", c, true, 32); err != nil {
			return err
		}
	}
	for m, mode := range p.Security {
		field := "settings.security." + string(m)
		if !m.Valid() {
			return invalid(field, "unknown security model %q: want end-to-end or end-to-site", m)
		}
		switch mode.Transport {
		case "tls", "tcp", "udp":
		default:
			return invalid(field+".transport", "transport must be tls, tcp or udp, not %q", mode.Transport)
		}
		switch mode.MediaEncryption {
		case "zrtp", "srtp", "none":
		default:
			return invalid(field+".media_encryption", "media encryption must be zrtp, srtp or none, not %q", mode.MediaEncryption)
		}
	}
	for _, m := range model.SecurityModels {
		if _, ok := p.Security[m]; !ok {
			return invalid("settings.security."+string(m), "settings for the %s security model are required", m)
		}
	}
	for plat := range p.PlatformOptions {
		if err := validPlatform("settings.platform_options."+plat, plat); err != nil {
			return err
		}
	}
	return nil
}
