package cli

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// groupFlags are the flags of group create and group edit.
type groupFlags struct {
	name    string
	itEmail string
	profile string
}

func (f *groupFlags) register(fs *pflag.FlagSet, withName bool) {
	if withName {
		fs.StringVar(&f.name, "name", "", "new name of the group")
	}
	fs.StringVar(&f.itEmail, "it-email", "", "e-mail address of the group's IT contact")
	fs.StringVar(&f.profile, "profile", "", "provisioning profile for the group's accounts (empty: the default profile)")
}

// input builds the request body from the flags that were set on the command
// line, and only those: an edit leaves every other field alone.
func (f *groupFlags) input(fs *pflag.FlagSet) model.GroupInput {
	var in model.GroupInput
	if fs.Changed("name") {
		in.Name = &f.name
	}
	if fs.Changed("it-email") {
		in.ITEmail = &f.itEmail
	}
	if fs.Changed("profile") {
		in.Profile = &f.profile
	}
	return in
}

func newGroupCmd(a *globals) *cobra.Command {
	return parentCmd("group", "Manage groups of accounts",
		`Every account belongs to exactly one group. A group has a name, an
optional IT contact e-mail, and optionally a provisioning profile that its
accounts receive unless they have their own.`,
		`  activator group create sales --it-email it@example.com --profile field-staff
  activator group list`,
		newGroupCreateCmd(a), newGroupListCmd(a), newGroupShowCmd(a), newGroupEditCmd(a), newGroupDeleteCmd(a))
}

func newGroupCreateCmd(a *globals) *cobra.Command {
	var f groupFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a group",
		Long: `Create a group. Its accounts receive the group's provisioning profile
(--profile) unless they have their own; without one they get the default profile.`,
		Example: `  activator group create sales
  activator group create sales --it-email it@example.com --profile field-staff`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := f.input(cmd.Flags())
			in.Name = &args[0]
			return callAndPrint(a, cmd, writeJSON[model.Group](http.MethodPost, "/groups", in), printGroup)
		},
	}
	f.register(cmd.Flags(), false)
	return cmd
}

func newGroupListCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List groups",
		Long:    "List every group with its IT contact and provisioning profile.",
		Example: `  activator group list
  activator group list -o json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[groupList]("/groups", nil), printGroupList)
		},
	}
}

func newGroupShowCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a group",
		Long:    "Show one group: its name, IT contact and provisioning profile.",
		Example: `  activator group show sales`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[model.Group]("/groups"+seg(args[0]), nil), printGroup)
		},
	}
}

func newGroupEditCmd(a *globals) *cobra.Command {
	var f groupFlags
	cmd := &cobra.Command{
		Use:   "edit NAME",
		Short: "Change a group",
		Long: `Change a group's name, IT contact or provisioning profile. Only the flags
given are changed; --profile "" puts the group back on the default profile.`,
		Example: `  activator group edit sales --name sales-eu
  activator group edit sales --it-email helpdesk@example.com --profile ""`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := f.input(cmd.Flags())
			if in == (model.GroupInput{}) {
				return errors.New("nothing to change: give --name, --it-email or --profile")
			}
			return callAndPrint(a, cmd, writeJSON[model.Group](http.MethodPatch, "/groups"+seg(args[0]), in), printGroup)
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}

func newGroupDeleteCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a group",
		Long:    "Delete a group. The server refuses while accounts still belong to it.",
		Example: `  activator group delete sales`,
		Args:    exactArgs("NAME"),
		RunE:    deleteRun(a, "group", "/groups"),
	}
}

// printGroupList prints the groups as a table.
func printGroupList(p *printer, v groupList, raw json.RawMessage) error {
	return printList(p, raw, v.Groups, "no groups", []string{"NAME", "IT E-MAIL", "PROFILE", "CREATED"},
		func(g model.Group) []string { return []string{g.Name, g.ITEmail, g.Profile, fmtTime(g.CreatedAt)} })
}

func printGroup(p *printer, g model.Group, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	return p.block([]kv{
		{"name", g.Name},
		{"id", strconv.FormatInt(g.ID, 10)},
		{"it e-mail", g.ITEmail},
		{"profile", g.Profile},
		{"created", fmtTime(g.CreatedAt)},
	})
}
