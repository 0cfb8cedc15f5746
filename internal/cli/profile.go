package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// profileFlags are the flags of profile create and profile edit.
type profileFlags struct {
	name string
	sets []string
	file string
}

func (f *profileFlags) register(fs *pflag.FlagSet, withName bool) {
	if withName {
		fs.StringVar(&f.name, "name", "", "new name of the profile")
	}
	fs.StringArrayVar(&f.sets, "set", nil, "set one setting: dotted.key=value (repeatable; see the keys below)")
	fs.StringVar(&f.file, "file", "", "JSON file of settings (a partial settings object; - reads standard input)")
}

// settings reads --file and --set into the partial settings to send.
func (f *profileFlags) settings(cmd *cobra.Command) (map[string]any, error) {
	var data []byte
	if f.file != "" {
		var err error
		if f.file == "-" {
			data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxResponseBytes))
		} else {
			data, err = os.ReadFile(f.file)
		}
		if err != nil {
			return nil, fmt.Errorf("reading settings file: %w", err)
		}
	}
	return settingsPatch(f.sets, f.file, data)
}

// profileSettingsHelp is appended to the help of the commands taking --set.
func profileSettingsHelp() string {
	return `
--set takes a dotted path into the settings and a value. Text fields take
the value as written, lists are split on commas (codecs=opus,pcma), other
fields take JSON (pin.forced=true, pin.attempts=5, privacy={"history_size":50}).
Maps take any key: security.<model>.<field>, platform_options.<platform>.<option>.
--file reads a JSON object of settings; --set values apply over it. Only the
settings given are changed; the others keep their value.

Top-level keys: ` + strings.Join(profileSettingKeys(), ", ") + "."
}

func newProfileCmd(a *globals) *cobra.Command {
	return parentCmd("profile", "Manage provisioning profiles",
		`A provisioning profile is a reusable client configuration: customer service
contacts, logging, PIN policy, codecs, security settings per model and options
per platform. A group's profile is the default for its accounts; an account's
own profile overrides it. One default profile exists from the start.`,
		`  activator profile create field-staff --set pin.forced=true --set customer_service_email=help@example.com
  activator profile show field-staff`,
		newProfileCreateCmd(a), newProfileListCmd(a), newProfileShowCmd(a), newProfileEditCmd(a), newProfileDeleteCmd(a))
}

func newProfileCreateCmd(a *globals) *cobra.Command {
	var f profileFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a provisioning profile",
		Long: `Create a provisioning profile. It starts from the default settings; --file
and --set change some of them.
` + profileSettingsHelp(),
		Example: `  activator profile create field-staff
  activator profile create field-staff --set pin.forced=true --set codecs=opus,pcma
  activator profile create field-staff --file settings.json --set security.end-to-end.transport=tls`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			settings, err := f.settings(cmd)
			if errors.Is(err, errNoSettings) {
				settings, err = map[string]any{}, nil
			}
			if err != nil {
				return err
			}
			name := args[0]
			return callAndPrint(a, cmd, writeJSON[model.Profile](http.MethodPost, "/profiles", profileInput{Name: &name, Settings: settings}), printProfile)
		},
	}
	f.register(cmd.Flags(), false)
	return cmd
}

func newProfileListCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List provisioning profiles",
		Long:    "List every provisioning profile; the default one is marked.",
		Example: `  activator profile list`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[profileList]("/profiles", nil), printProfileList)
		},
	}
}

func newProfileShowCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a provisioning profile",
		Long: `Show a provisioning profile with every setting, one dotted key per line:
the same keys "profile edit --set" takes.`,
		Example: `  activator profile show default
  activator profile show field-staff -o json`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[model.Profile]("/profiles"+seg(args[0]), nil), printProfile)
		},
	}
}

func newProfileEditCmd(a *globals) *cobra.Command {
	var f profileFlags
	cmd := &cobra.Command{
		Use:   "edit NAME",
		Short: "Change a provisioning profile",
		Long: `Rename a provisioning profile or change some of its settings; the
settings not given keep their value. Clients receive the change the next
time they refresh their configuration.
` + profileSettingsHelp(),
		Example: `  activator profile edit field-staff --set pin.forced=false
  activator profile edit field-staff --name field --set platform_options.android.battery_saver=off
  activator profile edit default --set customer_service_email=help@example.com`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.editInput(cmd)
			if err != nil {
				return err
			}
			return callAndPrint(a, cmd, writeJSON[model.Profile](http.MethodPatch, "/profiles"+seg(args[0]), in), printProfile)
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}

// editInput builds the PATCH body: the name only when --name was given, the
// settings only when --set or --file was.
func (f *profileFlags) editInput(cmd *cobra.Command) (profileInput, error) {
	var in profileInput
	if cmd.Flags().Changed("name") {
		in.Name = &f.name
	}
	settings, err := f.settings(cmd)
	switch {
	case errors.Is(err, errNoSettings):
		if in.Name == nil {
			return in, errors.New("nothing to change: give --name, --set or --file")
		}
	case err != nil:
		return in, err
	default:
		in.Settings = settings
	}
	return in, nil
}

func newProfileDeleteCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a provisioning profile",
		Long:    "Delete a provisioning profile. The server refuses the default profile and profiles still in use.",
		Example: `  activator profile delete field-staff`,
		Args:    exactArgs("NAME"),
		RunE:    deleteRun(a, "profile", "/profiles"),
	}
}

// printProfileList prints the profiles as a table; the default one is marked.
func printProfileList(p *printer, v profileList, raw json.RawMessage) error {
	return printList(p, raw, v.Profiles, "no profiles", []string{"NAME", "DEFAULT", "CUSTOMER SERVICE", "PIN FORCED", "UPDATED"},
		func(pr model.Profile) []string {
			def := ""
			if pr.IsDefault {
				def = "default"
			}
			return []string{pr.Name, def, pr.Settings.CustomerServiceEmail, yesNo(pr.Settings.PIN.Forced), fmtTime(pr.UpdatedAt)}
		})
}

func printProfile(p *printer, pr model.Profile, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	lines := []kv{
		{"name", pr.Name},
		{"id", strconv.FormatInt(pr.ID, 10)},
		{"default", yesNo(pr.IsDefault)},
		{"created", fmtTime(pr.CreatedAt)},
		{"updated", fmtTime(pr.UpdatedAt)},
	}
	if err := p.block(lines); err != nil {
		return err
	}
	return p.settings(raw, pr.Settings)
}

// settings prints the "settings" object of a raw answer as an indented block
// of dotted keys, the same keys --set takes. Keys the server sends that this
// build does not know are shown too; without a raw answer it prints s.
func (p *printer) settings(raw []byte, s model.ProfileSettings) error {
	var v struct {
		Settings json.RawMessage `json:"settings"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || len(v.Settings) == 0 {
		b, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("printing settings: %w", err)
		}
		v.Settings = b
	}
	lines, err := flattenJSON(v.Settings, "")
	if err != nil {
		return err
	}
	p.line("")
	p.line("settings:")
	return writeBlock(p.w, "  ", lines)
}
