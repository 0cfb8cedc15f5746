package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newGatewayCmd(a *globals) *cobra.Command {
	return parentCmd("gateway", "Configure message gateways (SMS and e-mail providers)",
		`Gateways carry the messages: SMS through ASPSMS, Orange, Clickatell,
Vonage (Nexmo) or Twilio; e-mail through any SMTP server or GMail. The
built-in "outbox" gateway keeps messages in the database instead.

A message goes through the gateway named in "account send --gateway", else
its group's own gateway for the channel ("gateway assign"), else the
channel's default ("--default-for"), else the outbox.

Settings are checked for the kind ("gateway kinds" lists them), encrypted at
rest, and shown masked.`,
		`  activator gateway kinds
  activator gateway add sms-main --kind twilio --default-for sms --set account_sid=AC... --set auth_token=... --set from=+15005550006
  activator gateway test sms-main --to +393331234567
  activator gateway assign sms-eu --group sales`,
		newGatewayAddCmd(a), newGatewayListCmd(a), newGatewayShowCmd(a), newGatewayEditCmd(a), newGatewayDeleteCmd(a),
		newGatewayKindsCmd(a), newGatewayTestCmd(a), newGatewayAssignCmd(a), newGatewayUnassignCmd(a))
}

// gatewayFlags are the flags of gateway add and gateway edit.
type gatewayFlags struct {
	name, kind, defaultFor string
	set                    []string
}

func (f *gatewayFlags) register(fs *pflag.FlagSet, add bool) {
	if add {
		fs.StringVar(&f.kind, "kind", "", "kind of gateway: smtp, gmail, aspsms, orange, clickatell, vonage (nexmo), twilio")
	} else {
		fs.StringVar(&f.name, "name", "", "new name of the gateway")
	}
	fs.StringVar(&f.defaultFor, "default-for", "", `make it the default gateway of its channel: sms or email ("" stops it being one)`)
	fs.StringArrayVar(&f.set, "set", nil, `a setting, KEY=VALUE (repeatable; on edit, KEY= removes it)`)
}

func (f *gatewayFlags) input(fs *pflag.FlagSet) (model.GatewayInput, error) {
	var in model.GatewayInput
	if fs.Changed("kind") {
		in.KindName = &f.kind
	}
	if fs.Changed("name") {
		in.Name = &f.name
	}
	if fs.Changed("default-for") {
		if f.defaultFor != "" && f.defaultFor != model.ChannelSMS && f.defaultFor != model.ChannelEmail {
			return in, fmt.Errorf("--default-for %q: want sms or email", f.defaultFor)
		}
		in.DefaultFor = &f.defaultFor
	}
	for _, kv := range f.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return in, fmt.Errorf("--set %q: want KEY=VALUE", strings.SplitN(kv, "=", 2)[0])
		}
		if in.Settings == nil {
			in.Settings = map[string]string{}
		}
		in.Settings[strings.TrimSpace(k)] = v
	}
	return in, nil
}

func newGatewayAddCmd(a *globals) *cobra.Command {
	var f gatewayFlags
	cmd := &cobra.Command{
		Use:   "add NAME --kind KIND [--default-for sms|email] --set KEY=VALUE ...",
		Short: "Configure a gateway",
		Long: `Configure a gateway of a kind with its settings ("activator gateway kinds"
lists every kind's keys). Secrets are encrypted at rest and never shown again.`,
		Example: `  activator gateway add mail --kind smtp --default-for email --set host=mail.example.com --set tls=none --set from=it@example.com
  activator gateway add gmail --kind gmail --set username=it@example.com --set app_password=abcdabcdabcdabcd
  activator gateway add sms --kind vonage --default-for sms --set api_key=abcd1234 --set api_secret=... --set from=ACME`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.input(cmd.Flags())
			if err != nil {
				return err
			}
			if in.KindName == nil {
				return errors.New("--kind is required (see \"activator gateway kinds\")")
			}
			in.Name = &args[0]
			return callAndPrint(a, cmd, writeJSON[model.Gateway](http.MethodPost, "/gateways", in), printGateway)
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}

func newGatewayListCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List gateways",
		Long:    "List the configured gateways with their kind, channel and default.",
		Example: `  activator gateway list`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[gatewayList]("/gateways", nil), printGatewayList)
		},
	}
}

func newGatewayShowCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a gateway",
		Long: `Show a gateway's settings (secrets masked) and the delivery receipt URL to
configure at the provider when the kind needs it. The URL ends with the key
that authenticates the provider's receipts: an admin's token reads it whole,
any other role's reads the key masked.`,
		Example: `  activator gateway show sms-main`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[model.Gateway]("/gateways"+seg(args[0]), nil), printGateway)
		},
	}
}

func newGatewayEditCmd(a *globals) *cobra.Command {
	var f gatewayFlags
	cmd := &cobra.Command{
		Use:   "edit NAME [--name N] [--default-for sms|email] [--set KEY=VALUE ...]",
		Short: "Change a gateway",
		Long: `Rename a gateway, change its default, or change settings: the keys given are
merged into the stored ones, and KEY= removes a key.`,
		Example: `  activator gateway edit sms-main --set from=ACME
  activator gateway edit sms-main --default-for ""`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.input(cmd.Flags())
			if err != nil {
				return err
			}
			if in.Name == nil && in.DefaultFor == nil && in.Settings == nil {
				return errors.New("nothing to change: give --name, --default-for or --set")
			}
			return callAndPrint(a, cmd, writeJSON[model.Gateway](http.MethodPatch, "/gateways"+seg(args[0]), in), printGateway)
		},
	}
	f.register(cmd.Flags(), false)
	return cmd
}

func newGatewayDeleteCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a gateway",
		Long:    "Delete a gateway. The server refuses while a group is routed through it.",
		Example: `  activator gateway delete sms-old`,
		Args:    exactArgs("NAME"),
		RunE:    deleteRun(a, "gateway", "/gateways"),
	}
}

func newGatewayKindsCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "kinds",
		Short:   "List the kinds of gateway and their settings",
		Long:    "List every kind of gateway with its setting keys, what each means, and its default.",
		Example: `  activator gateway kinds`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[gatewayKindList]("/gateway-kinds", nil), printGatewayKinds)
		},
	}
}

func newGatewayTestCmd(a *globals) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "test NAME --to ADDRESS",
		Short: "Send a test message through a gateway",
		Long: `Send a short test message now, outside the queue, and print what the
provider answered: its message id, or its error and whether a retry could help.`,
		Example: `  activator gateway test sms-main --to +393331234567
  activator gateway test mail --to it@example.com`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := model.GatewayTestRequest{To: to}
			return callAndPrint(a, cmd, writeJSON[model.GatewayTestResult](http.MethodPost, "/gateways"+seg(args[0])+"/test", in), printGatewayTest)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "a mobile number (+393331234567) or an e-mail address")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func newGatewayAssignCmd(a *globals) *cobra.Command {
	var group string
	cmd := &cobra.Command{
		Use:   "assign NAME --group GROUP",
		Short: "Route a group's messages through a gateway",
		Long: `Make a gateway the group's own for the gateway's channel: the group's
messages on that channel go through it instead of the channel's default.`,
		Example: `  activator gateway assign sms-eu --group sales`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			var g model.Gateway
			if _, err := c.call(cmd.Context(), "GET", "/gateways"+seg(args[0]), nil, nil, &g); err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), "PUT", "/groups"+seg(group)+"/gateways"+seg(g.Channel), nil, model.GroupGatewayInput{Gateway: args[0]}, nil); err != nil {
				return err
			}
			if p := a.printer(cmd); !p.json {
				p.line("group %s sends %s through %s", cell(group), g.Channel, cell(args[0]))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&group, "group", "", "the group")
	_ = cmd.MarkFlagRequired("group")
	return cmd
}

func newGatewayUnassignCmd(a *globals) *cobra.Command {
	var group, channel string
	cmd := &cobra.Command{
		Use:     "unassign --group GROUP --channel sms|email",
		Short:   "Put a group back on the channel's default gateway",
		Long:    "Remove a group's own gateway for a channel.",
		Example: `  activator gateway unassign --group sales --channel sms`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if channel != model.ChannelSMS && channel != model.ChannelEmail {
				return fmt.Errorf("--channel %q: want sms or email", channel)
			}
			unassign := writeOnly(http.MethodPut, "/groups"+seg(group)+"/gateways"+seg(channel), nil, model.GroupGatewayInput{})
			return callAndPrint(a, cmd, unassign, func(p *printer, _ struct{}, _ json.RawMessage) error {
				if !p.json {
					p.line("group %s sends %s through the default gateway", cell(group), channel)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&group, "group", "", "the group")
	cmd.Flags().StringVar(&channel, "channel", "", "sms or email")
	_ = cmd.MarkFlagRequired("group")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

// printGatewayList prints the gateways as a table, the built-in outbox first.
func printGatewayList(p *printer, v gatewayList, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	rows := [][]string{{"outbox", "outbox", "sms, email", "(when no other)", "-"}}
	for _, g := range v.Gateways {
		rows = append(rows, []string{g.Name, g.KindName, g.Channel, g.DefaultFor, strings.Join(g.Groups, ", ")})
	}
	return p.table([]string{"NAME", "KIND", "CHANNEL", "DEFAULT FOR", "GROUPS"}, rows)
}

// printGatewayKinds prints each kind with a table of its setting keys.
func printGatewayKinds(p *printer, v gatewayKindList, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	for i, k := range v.Kinds {
		if i > 0 {
			p.line("")
		}
		name := k.Name
		if len(k.Aliases) > 0 {
			name += " (alias " + strings.Join(k.Aliases, ", ") + ")"
		}
		p.line("%s  [%s]  %s", name, k.Channel, text(k.Help))
		rows := make([][]string, 0, len(k.Keys))
		for _, key := range k.Keys {
			var notes []string
			if key.Required {
				notes = append(notes, "required")
			}
			if key.Secret {
				notes = append(notes, "secret")
			}
			if key.Default != "" {
				notes = append(notes, "default "+key.Default)
			}
			if len(key.Values) > 0 {
				notes = append(notes, strings.Join(key.Values, "|"))
			}
			rows = append(rows, []string{key.Key, strings.Join(notes, ", "), key.Help})
		}
		if err := writeTable(p.w, "  ", []string{"KEY", "", "MEANING"}, rows); err != nil {
			return err
		}
	}
	return nil
}

// printGatewayTest prints what the provider answered to a test message, and
// fails, in either format, when the provider refused it.
func printGatewayTest(p *printer, res model.GatewayTestResult, raw json.RawMessage) error {
	if p.json {
		if err := p.rawJSON(raw); err != nil {
			return err
		}
	} else {
		lines := []kv{{"gateway", res.Gateway}, {"to", res.To}}
		if res.Segments > 0 {
			lines = append(lines, kv{"segments", fmt.Sprintf("%d (%s)", res.Segments, res.Encoding)})
		}
		if res.OK {
			lines = append(lines, kv{"result", "accepted by the provider"}, kv{"provider id", res.ProviderID})
		} else {
			kind := "temporary: a retry may succeed"
			if res.Permanent {
				kind = "permanent: fix the settings or the address"
			}
			lines = append(lines, kv{"result", "refused (" + kind + ")"}, kv{"provider said", res.Error})
		}
		if err := p.block(lines); err != nil {
			return err
		}
	}
	if !res.OK {
		return errors.New("the test message was not accepted")
	}
	return nil
}

func printGateway(p *printer, g model.Gateway, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	lines := []kv{
		{"name", g.Name},
		{"id", strconv.FormatInt(g.ID, 10)},
		{"kind", g.KindName},
		{"channel", g.Channel},
		{"default for", g.DefaultFor},
		{"groups", strings.Join(g.Groups, ", ")},
	}
	keys := make([]string, 0, len(g.Settings))
	for k := range g.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lines = append(lines, kv{"  " + k, g.Settings[k]})
	}
	switch g.ReceiptSet {
	case "per_message":
		lines = append(lines, kv{"receipts", "the URL is sent with each message; nothing to configure"}, kv{"receipt url", g.ReceiptURL})
	case "at_provider":
		lines = append(lines, kv{"receipts", "configure this URL at the provider:"}, kv{"receipt url", g.ReceiptURL})
	}
	lines = append(lines, kv{"updated", fmtTime(g.UpdatedAt)})
	return p.block(lines)
}

// segmentsText shows an SMS's segment count, flagging more than two.
func segmentsText(n int) string {
	switch {
	case n == 0:
		return ""
	case n > 2:
		return strconv.Itoa(n) + " (more than two: shorten the template or the company name)"
	}
	return strconv.Itoa(n)
}
