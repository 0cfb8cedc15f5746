package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
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

func newSettingsCmd(a *globals) *cobra.Command {
	return parentCmd("settings", "Show and change server settings",
		`Server settings are the hostnames, SIP ports, link expiry and the other
values an administrator may change while the server runs.`,
		`  activator settings show
  activator settings set public_base_url https://activate.example.com`,
		newSettingsShowCmd(a), newSettingsSetCmd(a))
}

func newSettingsShowCmd(a *globals) *cobra.Command {
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
			return callAndPrint(a, cmd, getJSON[settingList]("/settings", nil), func(p *printer, v settingList, raw json.RawMessage) error {
				if len(args) == 1 {
					return printOneSetting(p, v.Settings, args[0])
				}
				return printList(p, raw, v.Settings, "", []string{"KEY", "VALUE", "DEFAULT", "HELP"},
					func(s model.Setting) []string { return []string{s.Key, s.Value, s.Default, s.Help} })
			})
		},
	}
}

func newSettingsSetCmd(a *globals) *cobra.Command {
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
			in := struct {
				Value string `json:"value"`
			}{args[1]}
			return callAndPrint(a, cmd, writeJSON[model.Setting](http.MethodPut, "/settings"+seg(args[0]), in),
				func(p *printer, s model.Setting, raw json.RawMessage) error {
					if p.json {
						return p.rawJSON(raw)
					}
					return p.block([]kv{{"key", s.Key}, {"value", s.Value}, {"default", s.Default}})
				})
		},
	}
}

// printOneSetting prints the setting named key out of the list the API
// answers; -o json prints that one setting, not the whole answer.
func printOneSetting(p *printer, settings []model.Setting, key string) error {
	for _, s := range settings {
		if s.Key == key {
			if p.json {
				return p.value(s)
			}
			return p.block([]kv{{"key", s.Key}, {"value", s.Value}, {"default", s.Default}, {"help", s.Help}})
		}
	}
	return fmt.Errorf("unknown setting %q; valid keys: %s", key, settingKeys())
}
