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
)

type orgList struct {
	Organisations []model.Organisation `json:"organisations"`
}

func newOrgCmd(a *globals) *cobra.Command {
	return parentCmd("org", "Manage organisations (provider admins)",
		`An organisation is one of the provider's customers: its own operators,
API tokens, groups, profiles, gateways, settings and accounts, walled off
from every other organisation's. The default organisation is the
provider's own. Only a provider admin (the first start's token is one)
manages organisations; with --org SLUG any other command acts inside one.`,
		`  activator org create "ACME Corp" --slug acme --sip-domain sip.acme.example --base-url https://acme.activate.example
  activator --org acme operator create acme-admin --role admin
  activator org list
  activator org stats acme`,
		newOrgCreateCmd(a), newOrgListCmd(a), newOrgShowCmd(a), newOrgEditCmd(a),
		newOrgSuspendCmd(a, true), newOrgSuspendCmd(a, false), newOrgDeleteCmd(a), newOrgStatsCmd(a))
}

func newOrgCreateCmd(a *globals) *cobra.Command {
	var slug, sipDomain, baseURL string
	var q quotaFlags
	cmd := &cobra.Command{
		Use:   "create NAME --slug SLUG",
		Short: "Create an organisation",
		Long: `Create an organisation with its default provisioning profile. NAME is the
name its users see; --slug names it in URLs and on the command line
(lowercase letters, digits and hyphens). --sip-domain and --base-url set its
sip_domain and public_base_url settings; the rest of its settings, its
gateways and its operators are set acting inside it (--org SLUG).
--max-accounts and --max-messages-per-day are its quotas (0: none); only
a provider admin changes them.`,
		Example: `  activator org create "ACME Corp" --slug acme
  activator org create "ACME Corp" --slug acme --sip-domain sip.acme.example --base-url https://acme.activate.example
  activator org create "ACME Corp" --slug acme --max-accounts 5000 --max-messages-per-day 10000`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if slug == "" {
				return errors.New("--slug is required: the organisation's name in URLs and on the command line, like acme")
			}
			in := model.OrganisationInput{Name: &args[0], Slug: &slug}
			if cmd.Flags().Changed("sip-domain") {
				in.SIPDomain = &sipDomain
			}
			if cmd.Flags().Changed("base-url") {
				in.BaseURL = &baseURL
			}
			q.input(cmd, &in)
			return callAndPrint(a, cmd, writeJSON[model.Organisation](http.MethodPost, "/orgs", in), printOrg)
		},
	}
	q.register(cmd)
	cmd.Flags().StringVar(&slug, "slug", "", "the organisation's slug (required)")
	cmd.Flags().StringVar(&sipDomain, "sip-domain", "", "its SIP domain (the sip_domain setting)")
	cmd.Flags().StringVar(&baseURL, "base-url", "", "the public URL its links are built on (the public_base_url setting)")
	return cmd
}

func newOrgListCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List organisations",
		Long:    "List every organisation by slug, with its name and whether it is suspended.",
		Example: `  activator org list
  activator org list -o json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[orgList]("/orgs", nil), func(p *printer, v orgList, raw json.RawMessage) error {
				return printList(p, raw, v.Organisations, "no organisations", []string{"SLUG", "NAME", "ID", "SUSPENDED", "CREATED"},
					func(o model.Organisation) []string {
						return []string{o.Slug, o.Name, strconv.FormatInt(o.ID, 10), fmtTimePtr(o.SuspendedAt), fmtTime(o.CreatedAt)}
					})
			})
		},
	}
}

func newOrgShowCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "show SLUG",
		Short:   "Show an organisation",
		Long:    "Show one organisation, named by its slug or id.",
		Example: `  activator org show acme`,
		Args:    exactArgs("SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[model.Organisation]("/orgs"+seg(args[0]), nil), printOrg)
		},
	}
}

func newOrgEditCmd(a *globals) *cobra.Command {
	var name, slug string
	var q quotaFlags
	cmd := &cobra.Command{
		Use:   "edit SLUG",
		Short: "Rename an organisation, change its slug, its quotas or whom it may call",
		Long: `Change an organisation's name, slug, quotas or the organisations its accounts
may call (--allow-calls-to, replacing the list); only the flags given change.
Its settings change as any organisation's do: activator --org SLUG settings set.`,
		Example: `  activator org edit acme --name "ACME Europe" --slug acme-eu
  activator org edit acme --max-accounts 10000 --max-messages-per-day 0
  activator org edit acme --allow-calls-to beta,gamma   # acme's accounts may call beta's and gamma's
  activator org edit acme --allow-calls-to ""           # calls stay inside acme again`,
		Args: exactArgs("SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in model.OrganisationInput
			if cmd.Flags().Changed("name") {
				in.Name = &name
			}
			if cmd.Flags().Changed("slug") {
				in.Slug = &slug
			}
			q.input(cmd, &in)
			if in == (model.OrganisationInput{}) {
				return errors.New("nothing to change: give --name, --slug, --max-accounts, --max-messages-per-day or --allow-calls-to")
			}
			return callAndPrint(a, cmd, writeJSON[model.Organisation](http.MethodPatch, "/orgs"+seg(args[0]), in), printOrg)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "its new name")
	cmd.Flags().StringVar(&slug, "slug", "", "its new slug")
	q.register(cmd)
	return cmd
}

// quotaFlags are what the provider alone sets on an organisation, on
// create and edit: its quotas and the organisations it may call.
type quotaFlags struct {
	accounts, messages int64
	calls              []string
}

func (q *quotaFlags) register(cmd *cobra.Command) {
	cmd.Flags().Int64Var(&q.accounts, "max-accounts", 0, "the most accounts it may have (0: no quota)")
	cmd.Flags().Int64Var(&q.messages, "max-messages-per-day", 0, "the most messages it may queue in a day, UTC (0: no quota)")
	cmd.Flags().StringSliceVar(&q.calls, "allow-calls-to", nil,
		"slugs of the organisations whose accounts its accounts may call and message, at their SIP domains (\"\": none)")
}

func (q *quotaFlags) input(cmd *cobra.Command, in *model.OrganisationInput) {
	if cmd.Flags().Changed("max-accounts") {
		in.MaxAccounts = &q.accounts
	}
	if cmd.Flags().Changed("max-messages-per-day") {
		in.MaxMessagesPerDay = &q.messages
	}
	if cmd.Flags().Changed("allow-calls-to") {
		calls := []string{}
		for _, c := range q.calls {
			if c = strings.TrimSpace(c); c != "" {
				calls = append(calls, c)
			}
		}
		in.AllowCallsTo = &calls
	}
}

func newOrgSuspendCmd(a *globals, suspend bool) *cobra.Command {
	verb, short, long := "suspend", "Suspend an organisation",
		`Suspend an organisation: its operators cannot log in, its API tokens, links
and devices are refused, until it is resumed. Nothing is deleted; a
provider admin still acts inside it.`
	if !suspend {
		verb, short, long = "resume", "Resume a suspended organisation", "End an organisation's suspension: everything it had works again."
	}
	return &cobra.Command{
		Use:     verb + " SLUG",
		Short:   short,
		Long:    long,
		Example: "  activator org " + verb + " acme",
		Args:    exactArgs("SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, writeJSON[model.Organisation](http.MethodPost, "/orgs"+seg(args[0])+"/"+verb, nil), printOrg)
		},
	}
}

func newOrgDeleteCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "delete SLUG",
		Aliases: []string{"rm"},
		Short:   "Delete an organisation",
		Long: `Delete an organisation. The server refuses while it still has accounts,
operators, tokens, groups or gateways (delete them acting inside it), and
always for the default organisation.`,
		Example: `  activator org delete acme`,
		Args:    exactArgs("SLUG"),
		RunE:    deleteRun(a, "organisation", "/orgs"),
	}
}

func newOrgStatsCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "stats SLUG",
		Short: "Show an organisation's counts",
		Long: fmt.Sprintf(`Show an organisation's accounts by status, messages by state and the
accounts activated on each of the last %d days.`, model.StatsDays),
		Example: `  activator org stats acme
  activator org stats acme -o json`,
		Args: exactArgs("SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[model.OrganisationStats]("/orgs"+seg(args[0])+"/stats", nil), printOrgStats)
		},
	}
}

func printOrg(p *printer, o model.Organisation, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	return p.block([]kv{
		{"slug", o.Slug},
		{"name", o.Name},
		{"id", strconv.FormatInt(o.ID, 10)},
		{"suspended", fmtTimePtr(o.SuspendedAt)},
		{"most accounts", quota(o.MaxAccounts)},
		{"most messages a day", quota(o.MaxMessagesPerDay)},
		{"may call", callsOf(o)},
		{"created", fmtTime(o.CreatedAt)},
	})
}

// callsOf lists the organisations o's accounts may call.
func callsOf(o model.Organisation) string {
	if len(o.AllowCallsTo) == 0 {
		return "its own accounts only"
	}
	return strings.Join(o.AllowCallsTo, ", ")
}

func quota(n int64) string {
	if n <= 0 {
		return "no quota"
	}
	return strconv.FormatInt(n, 10)
}

func printOrgStats(p *printer, st model.OrganisationStats, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	counts := func(m map[string]int, order []string) string {
		var parts []string
		seen := map[string]bool{}
		for _, k := range order {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
			seen[k] = true
		}
		var rest []string
		for k := range m {
			if !seen[k] {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		for _, k := range rest {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	total, last := 0, ""
	for _, d := range st.Activations {
		total += d.Count
		if d.Count > 0 {
			last = d.Day
		}
	}
	return p.block([]kv{
		{"organisation", st.Organisation.Slug},
		{"accounts", counts(st.Accounts, append(append([]string{}, model.Stages...), model.StatusDisabled))},
		{"messages", counts(st.Messages, []string{model.MessageQueued, model.MessageSending, model.MessageSent, model.MessageDelivered, model.MessageFailed})},
		{fmt.Sprintf("activations, %d days", model.StatsDays), fmt.Sprintf("%d (last on %s)", total, orNone(last))},
	})
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
