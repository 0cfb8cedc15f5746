package cli

import (
	"fmt"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
)

// settingKeysHelp lists the setting keys with their meaning, from the model's table.
func settingKeysHelp() string {
	var b strings.Builder
	for _, d := range model.SettingDefs {
		fmt.Fprintf(&b, "  %s\n      %s\n", d.Key, d.Help)
	}
	return b.String()
}

func settingKeys() string {
	keys := make([]string, len(model.SettingDefs))
	for i, d := range model.SettingDefs {
		keys[i] = d.Key
	}
	return strings.Join(keys, ", ")
}

func newSettingsCmd(a *app) *cobra.Command {
	return parentCmd("settings", "Show and change server settings",
		`Server settings are the hostnames, SIP ports, link expiry and the other
values an administrator may change while the server runs.`,
		`  activator settings show
  activator settings set public_base_url https://activate.example.com`,
		newSettingsShowCmd(a), newSettingsSetCmd(a))
}

func newSettingsShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show [KEY]",
		Short: "Show server settings",
		Long:  "Show every server setting with its value, its default and what it means, or one setting by KEY.",
		Example: `  activator settings show
  activator settings show link_expiry
  activator settings show -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return fmt.Errorf("%s takes at most one KEY, got %q", cmd.CommandPath(), strings.Join(args, " "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			settings, raw, err := c.listSettings(cmd.Context())
			if err != nil {
				return err
			}
			p := a.printer(cmd)
			if len(args) == 1 {
				for _, s := range settings {
					if s.Key == args[0] {
						if p.json {
							return p.value(s)
						}
						return p.block([]kv{{"key", s.Key}, {"value", s.Value}, {"default", s.Default}, {"help", s.Help}})
					}
				}
				return fmt.Errorf("unknown setting %q; valid keys: %s", args[0], settingKeys())
			}
			if p.json {
				return p.rawJSON(raw)
			}
			rows := make([][]string, len(settings))
			for i, s := range settings {
				rows[i] = []string{s.Key, s.Value, s.Default, s.Help}
			}
			return p.table([]string{"KEY", "VALUE", "DEFAULT", "HELP"}, rows)
		},
	}
}

func newSettingsSetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change a server setting",
		Long: `Change a server setting; the server checks the value.

Keys:
` + settingKeysHelp(),
		Example: `  activator settings set public_base_url https://activate.example.com
  activator settings set link_expiry 72h
  activator settings set sip_transports tls,tcp`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("%s needs KEY VALUE, got %d argument(s) (see %q)", cmd.CommandPath(), len(args), cmd.CommandPath()+" --help")
			}
			if _, ok := model.SettingDefault(args[0]); !ok {
				return fmt.Errorf("unknown setting %q; valid keys: %s", args[0], settingKeys())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			s, raw, err := c.setSetting(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			p := a.printer(cmd)
			if p.json {
				return p.rawJSON(raw)
			}
			return p.block([]kv{{"key", s.Key}, {"value", s.Value}, {"default", s.Default}})
		},
	}
}
