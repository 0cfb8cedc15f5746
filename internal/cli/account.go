package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// accountFlags are the flags of account create and account edit.
type accountFlags struct {
	group         string
	name          string
	email         string
	mobile        string
	securityModel string
	profile       string
	virtualNumber string
	language      string
	description   string
	oneDevice     bool
}

func (f *accountFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.group, "group", "", "group the account belongs to")
	fs.StringVar(&f.name, "name", "", "full name of the user")
	fs.StringVar(&f.email, "email", "", "e-mail address the links are sent to")
	fs.StringVar(&f.mobile, "mobile", "", "mobile number the SMS are sent to (E.164, or national in the default region)")
	fs.StringVar(&f.securityModel, "security-model", "", "security model: "+joinModels()+" (default: the server's)")
	fs.StringVar(&f.profile, "profile", "", "the account's own provisioning profile, overriding its group's")
	fs.StringVar(&f.virtualNumber, "virtual-number", "", "virtual phone number (default: drawn from the configured range)")
	fs.StringVar(&f.language, "language", "", "language of the messages and pages: "+strings.Join(model.Languages, ", "))
	fs.StringVar(&f.description, "description", "", "free text about the account")
	fs.BoolVar(&f.oneDevice, "one-device", false, "bind the account to one device: while it has a live device, refuse an activation from another (--one-device=false unbinds)")
}

// input builds the request body from the flags that were set, and only
// those: an edit leaves every other field alone. It checks the values the
// model enumerates.
func (f *accountFlags) input(fs *pflag.FlagSet) (model.AccountInput, error) {
	var in model.AccountInput
	for _, p := range []struct {
		flag string
		val  *string
		dst  **string
	}{
		{"group", &f.group, &in.Group},
		{"name", &f.name, &in.Name},
		{"email", &f.email, &in.Email},
		{"mobile", &f.mobile, &in.Mobile},
		{"security-model", &f.securityModel, &in.SecurityModel},
		{"profile", &f.profile, &in.Profile},
		{"virtual-number", &f.virtualNumber, &in.VirtualNumber},
		{"language", &f.language, &in.Language},
		{"description", &f.description, &in.Description},
	} {
		if fs.Changed(p.flag) {
			*p.dst = p.val
		}
	}
	if fs.Changed("one-device") {
		in.OneDevice = &f.oneDevice
	}
	if in.SecurityModel != nil {
		if err := checkSecurityModel("--security-model", *in.SecurityModel); err != nil {
			return in, err
		}
	}
	if in.Language != nil && !model.ValidLanguage(*in.Language) {
		return in, fmt.Errorf("--language %q: want one of %s", *in.Language, strings.Join(model.Languages, ", "))
	}
	return in, nil
}

func newAccountCmd(a *globals) *cobra.Command {
	return parentCmd("account", "Manage VoIP accounts and their activation",
		`A VoIP account belongs to one group and is activated by a secure link sent to
its user by SMS or e-mail. Accounts created here stay disabled on the SIP side
until a device activates them.

An account moves through the stages new, invited, opened, installed and
activated; its status is its stage, or "disabled".`,
		`  activator account create --group sales --name "Ada Lovelace" --mobile +393331234567
  activator account send 1234567890 --channel sms
  activator account show 1234567890`,
		newAccountCreateCmd(a), newAccountListCmd(a), newAccountShowCmd(a), newAccountEditCmd(a),
		newAccountActionCmd(a, "disable"), newAccountActionCmd(a, "enable"), newAccountDeleteCmd(a),
		newAccountSendCmd(a), newAccountRevokeCmd(a), newAccountRevokeKeysCmd(a), newAccountProfileCmd(a))
}

func newAccountCreateCmd(a *globals) *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "create --group GROUP --name \"FULL NAME\"",
		Short: "Create a VoIP account",
		Long: `Create a VoIP account for automatic activation. The server generates its
username; the account stays disabled until a device activates it. Then send
its user a link with "account send".`,
		Example: `  activator account create --group sales --name "Ada Lovelace" --mobile +393331234567
  activator account create --group sales --name "Alan Turing" --email alan@example.com \
      --security-model end-to-site --profile field-staff --language it`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.input(cmd.Flags())
			if err != nil {
				return err
			}
			return callAndPrint(a, cmd, writeJSON[model.Account](http.MethodPost, "/accounts", in), printAccount)
		},
	}
	f.register(cmd.Flags())
	_ = cmd.MarkFlagRequired("group")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// accountStatuses lists the values of --status.
func accountStatuses() []string {
	return append(slices.Clone(model.Stages), model.StatusDisabled)
}

// accountPages pages GET /accounts.
var accountPages = listed[accountList, model.Account]{
	items:   func(v *accountList) *[]model.Account { return &v.Accounts },
	cursors: func(v *accountList) *model.Cursors { return &v.Cursors },
}

func newAccountListCmd(a *globals) *cobra.Command {
	var (
		filter accountFilter
		all    bool
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List VoIP accounts",
		Long: `List VoIP accounts, optionally of one group, in one status, or matching a
text (name, username, number, e-mail or mobile), newest first.

It prints one page (--limit accounts, the server's page size by default)
and, when there are more, the cursor of the next page on standard error:
give it as --cursor to get that page, or --all for every page. --offset
is kept for older scripts and goes at most 10,000 deep.

Statuses: ` + strings.Join(accountStatuses(), ", ") + ".",
		Example: `  activator account list
  activator account list --group sales --status invited
  activator account list --search lovelace --limit 20 -o json
  activator account list --status activated --all`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			if filter.Status != "" && !slices.Contains(accountStatuses(), filter.Status) {
				return fmt.Errorf("--status %q: want one of %s", filter.Status, strings.Join(accountStatuses(), ", "))
			}
			filter.HasLimit, filter.HasOffset = fs.Changed("limit"), fs.Changed("offset")
			if filter.HasLimit && filter.Limit <= 0 {
				return fmt.Errorf("--limit %d: want a positive number", filter.Limit)
			}
			if filter.HasOffset && filter.Offset < 0 {
				return fmt.Errorf("--offset %d: want zero or more", filter.Offset)
			}
			if all && filter.HasOffset {
				return fmt.Errorf("--all starts at the first page: give --cursor or --offset without it")
			}
			pf := pageFlags{all: all}
			return accountPages.run(a, cmd, &pf, "/accounts", filter.values(), printAccountList)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&filter.Cursor, "cursor", "", "start at this page (the cursor a previous list printed)")
	fs.BoolVar(&all, "all", false, "follow the pages to the end and print every account (for millions, use export)")
	fs.StringVar(&filter.Group, "group", "", "only accounts of this group")
	fs.StringVar(&filter.Status, "status", "", "only accounts in this status ("+strings.Join(accountStatuses(), ", ")+")")
	fs.StringVar(&filter.Query, "search", "", "only accounts with a word starting with each word of this text")
	fs.IntVar(&filter.Limit, "limit", 0, "at most this many accounts (default: the server's page size)")
	fs.IntVar(&filter.Offset, "offset", 0, "skip this many accounts first (at most 10000; prefer --cursor)")
	return cmd
}

func newAccountShowCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show USERNAME",
		Short: "Show a VoIP account, its devices, messages and timeline",
		Long: `Show everything about one account: its fields, the provisioning profile its
client receives and where that comes from, its secure links, its devices, its
messages with their delivery state, and its timeline, oldest event first.`,
		Example: `  activator account show 1234567890
  activator account show 1234567890 -o json`,
		Args: exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[model.AccountDetail]("/accounts"+seg(args[0]), nil),
				func(p *printer, d model.AccountDetail, raw json.RawMessage) error {
					if p.json {
						return p.rawJSON(raw)
					}
					return printAccountDetail(p, d, time.Now())
				})
		},
	}
}

func newAccountEditCmd(a *globals) *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "edit USERNAME",
		Short: "Change a VoIP account",
		Long: `Change some fields of an account; only the flags given are sent, the other
fields keep their value. --profile "" puts the account back on its group's profile.`,
		Example: `  activator account edit 1234567890 --mobile +393339876543
  activator account edit 1234567890 --group support --profile ""
  activator account edit 1234567890 --one-device`,
		Args: exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.input(cmd.Flags())
			if err != nil {
				return err
			}
			if in == (model.AccountInput{}) {
				return errors.New("nothing to change: give at least one of --group, --name, --email, --mobile, --security-model, --profile, --virtual-number, --language, --description, --one-device")
			}
			return callAndPrint(a, cmd, writeJSON[model.Account](http.MethodPatch, "/accounts"+seg(args[0]), in), printAccount)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// newAccountActionCmd builds account disable and account enable.
func newAccountActionCmd(a *globals, action string) *cobra.Command {
	short, long := "Disable a VoIP account", `Disable an account: it can no longer register or call, and its links stop
working. "account enable" undoes it.`
	if action == "enable" {
		short, long = "Enable a disabled VoIP account", `Enable an account an operator disabled. An account that was never activated
stays unable to register until a device activates it.`
	}
	return &cobra.Command{
		Use:     action + " USERNAME",
		Short:   short,
		Long:    long,
		Example: "  activator account " + action + " 1234567890",
		Args:    exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, writeJSON[model.Account](http.MethodPost, "/accounts"+seg(args[0])+"/"+action, nil), printAccount)
		},
	}
}

func newAccountDeleteCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "delete USERNAME",
		Aliases: []string{"rm"},
		Short:   "Delete a VoIP account",
		Long:    "Delete an account, its links and its devices' access.",
		Example: "  activator account delete 1234567890",
		Args:    exactArgs("USERNAME"),
		RunE:    deleteRun(a, "account", "/accounts"),
	}
}

func newAccountSendCmd(a *globals) *cobra.Command {
	var channel, kind, gateway string
	cmd := &cobra.Command{
		Use:   "send USERNAME --channel email|sms",
		Short: "Send the user a secure link",
		Long: `Issue a new secure link for the account and queue a message carrying it, by
SMS or e-mail. The activation link (the default) provisions the client; the
installation link leads to the client package for the user's platform.
Sending again replaces the account's live link of the same kind.`,
		Example: `  activator account send 1234567890 --channel sms
  activator account send 1234567890 --channel email --kind installation`,
		Args: exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := sendInput(cmd.Flags(), channel, kind)
			if err != nil {
				return err
			}
			in.Gateway = gateway
			return callAndPrint(a, cmd, writeJSON[model.SendResult](http.MethodPost, "/accounts"+seg(args[0])+"/send", in),
				func(p *printer, res model.SendResult, raw json.RawMessage) error {
					if p.json {
						return p.rawJSON(raw)
					}
					l, m := res.Link, res.Message
					return p.block([]kv{
						{"account", args[0]},
						{"link", string(l.Kind) + " " + l.TokenPrefix},
						{"expires", fmtTime(l.ExpiresAt)},
						{"message", strconv.FormatInt(m.ID, 10)},
						{"channel", m.Channel},
						{"recipient", m.Recipient},
						{"gateway", m.Gateway},
						{"state", m.State},
						{"sms segments", segmentsText(m.Segments)},
					})
				})
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "send by email or sms")
	cmd.Flags().StringVar(&kind, "kind", "", "link kind: activation (default) or installation")
	cmd.Flags().StringVar(&gateway, "gateway", "", "send this message through this gateway instead of the group's or the default")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

// sendInput checks --channel and --kind; kind is sent only when given.
func sendInput(fs *pflag.FlagSet, channel, kind string) (model.SendRequest, error) {
	in := model.SendRequest{Channel: channel}
	if channel != model.ChannelEmail && channel != model.ChannelSMS {
		return in, fmt.Errorf("--channel %q: want email or sms", channel)
	}
	if fs.Changed("kind") {
		in.Kind = model.LinkKind(kind)
		if !in.Kind.Valid() {
			return in, fmt.Errorf("--kind %q: want activation or installation", kind)
		}
	}
	return in, nil
}

func newAccountRevokeCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke USERNAME",
		Short: "Revoke the account's live links",
		Long: `Revoke every secure link of the account that was not used yet, so a lost or
forwarded message can no longer activate it. Devices already activated keep
working: "device-access revoke" cuts them off.`,
		Example: "  activator account revoke 1234567890",
		Args:    exactArgs("USERNAME"),
		RunE:    revokeRun(a, "/revoke", "revoked %d live link(s) of account %s"),
	}
}

func newAccountProfileCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "profile USERNAME",
		Short: "Show the profile the account's client receives",
		Long: `Show the effective provisioning profile of an account: its own profile, else
its group's, else the default one, with every setting.`,
		Example: "  activator account profile 1234567890",
		Args:    exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[model.EffectiveProfile]("/accounts"+seg(args[0])+"/profile", nil),
				func(p *printer, ep model.EffectiveProfile, raw json.RawMessage) error {
					if p.json {
						return p.rawJSON(raw)
					}
					if err := p.block([]kv{{"profile", ep.Profile}, {"source", ep.Source}}); err != nil {
						return err
					}
					return p.settings(raw, ep.Settings)
				})
		},
	}
}

func newDeviceAccessCmd(a *globals) *cobra.Command {
	revoke := &cobra.Command{
		Use:   "revoke USERNAME",
		Short: "Cut off the account's activated devices",
		Long: `Revoke the device credentials of every device that activated the account:
they can no longer fetch or refresh their configuration. To activate a device
again, send a new link.`,
		Example: "  activator device-access revoke 1234567890",
		Args:    exactArgs("USERNAME"),
		RunE:    revokeRun(a, "/device-access/revoke", "revoked the access of %d device(s) of account %s"),
	}
	return parentCmd("device-access", "Manage the access of activated devices",
		"Devices that activated an account hold a device credential to refresh their configuration.",
		"  activator device-access revoke 1234567890\n  activator device-access deactivate 1234567890 3f9a1c2e-android",
		revoke, newDeviceDeactivateCmd(a))
}

// revokeRun runs a command that revokes something of the account USERNAME
// by posting to /accounts/USERNAME+what, and prints the count with format.
func revokeRun(a *globals, what, format string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return callAndPrint(a, cmd, writeJSON[revokeCount](http.MethodPost, "/accounts"+seg(args[0])+what, nil),
			func(p *printer, n revokeCount, raw json.RawMessage) error {
				if p.json {
					return p.rawJSON(raw)
				}
				p.line(format, n.Revoked, cell(args[0]))
				return nil
			})
	}
}

func printAccount(p *printer, acc model.Account, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	return p.block(accountLines(acc))
}

// printAccountList prints the accounts as a table.
func printAccountList(p *printer, v accountList, raw json.RawMessage) error {
	return printList(p, raw, v.Accounts, "no accounts", []string{"USERNAME", "NAME", "GROUP", "NUMBER", "SECURITY MODEL", "STATUS", "CREATED"},
		func(acc model.Account) []string {
			return []string{acc.Username, acc.DisplayName, acc.Group, acc.VirtualNumber,
				string(acc.SecurityModel), acc.Status, fmtTime(acc.CreatedAt)}
		})
}

// accountLines is the key: value block of an account.
func accountLines(acc model.Account) []kv {
	status := acc.Status
	if status == "" {
		status = model.StatusOf(acc.Stage, acc.Disabled)
	}
	return []kv{
		{"username", acc.Username},
		{"name", acc.DisplayName},
		{"group", acc.Group},
		{"email", acc.Email},
		{"mobile", acc.Mobile},
		{"security model", string(acc.SecurityModel)},
		{"own profile", acc.Profile},
		{"virtual number", acc.VirtualNumber},
		{"language", acc.Language},
		{"description", acc.Description},
		{"one device", map[bool]string{true: "bound to one device", false: "no"}[acc.OneDevice]},
		{"kind", string(acc.Kind)},
		{"stage", acc.Stage},
		{"status", status},
		{"created", fmtTime(acc.CreatedAt)},
		{"updated", fmtTime(acc.UpdatedAt)},
		{"activated", fmtTimePtr(acc.ActivatedAt)},
	}
}

// printAccountDetail prints an account page: fields, effective profile,
// links, devices, messages and the timeline, oldest event first.
func printAccountDetail(p *printer, d model.AccountDetail, now time.Time) error {
	lines := append(accountLines(d.Account), kv{"effective profile",
		d.EffectiveProfile.Profile + " (from " + d.EffectiveProfile.Source + ")"})
	if err := p.block(lines); err != nil {
		return err
	}

	section := func(title string, n int) bool {
		p.line("")
		if n == 0 {
			p.line("%s: none", title)
			return false
		}
		p.line("%s:", title)
		return true
	}

	if section("links", len(d.Links)) {
		rows := make([][]string, len(d.Links))
		for i, l := range d.Links {
			rows[i] = []string{string(l.Kind), l.Channel, l.TokenPrefix, fmtTime(l.CreatedAt), fmtTime(l.ExpiresAt), linkState(l, now)}
		}
		if err := writeTable(p.w, "  ", []string{"KIND", "CHANNEL", "TOKEN", "CREATED", "EXPIRES", "STATE"}, rows); err != nil {
			return err
		}
	}

	if section("devices", len(d.Devices)) {
		rows := make([][]string, len(d.Devices))
		for i, dev := range d.Devices {
			state := "active"
			if dev.RevokedAt != nil {
				state = "revoked " + fmtTime(*dev.RevokedAt)
			}
			rows[i] = []string{dev.DeviceID, dev.Platform, dev.Model, dev.AppVersion, dev.CredentialPrefix,
				fmtTime(dev.CreatedAt), fmtTimePtr(dev.LastSeenAt), state}
		}
		if err := writeTable(p.w, "  ", []string{"DEVICE", "PLATFORM", "MODEL", "APP VERSION", "CREDENTIAL", "ACTIVATED", "LAST SEEN", "STATE"}, rows); err != nil {
			return err
		}
	}

	if section("messages", len(d.Messages)) {
		header, rows := messageTable(d.Messages, false)
		if err := writeTable(p.w, "  ", header, rows); err != nil {
			return err
		}
	}

	if section("sip registrations", len(d.Registrations)) {
		if err := printRegistrations(p, d.Registrations); err != nil { // sip.go
			return err
		}
	}

	if section("timeline", len(d.Events)) {
		events := slices.Clone(d.Events)
		slices.SortStableFunc(events, func(x, y model.Event) int {
			if c := x.At.Compare(y.At); c != 0 {
				return c
			}
			return cmp.Compare(x.ID, y.ID)
		})
		rows := make([][]string, len(events))
		for i, e := range events {
			rows[i] = []string{fmtTime(e.At), string(e.Kind), e.Actor, sortedDetail(e.Detail)}
		}
		if err := writeTable(p.w, "  ", []string{"TIME", "EVENT", "BY", "DETAIL"}, rows); err != nil {
			return err
		}
	}
	return nil
}

// linkState names where a secure link stands.
func linkState(l model.Link, now time.Time) string {
	switch {
	case l.RedeemedAt != nil:
		return "used " + fmtTime(*l.RedeemedAt)
	case l.RevokedAt != nil:
		return "revoked " + fmtTime(*l.RevokedAt)
	case !l.ExpiresAt.IsZero() && now.After(l.ExpiresAt):
		return "expired"
	}
	return "live"
}
