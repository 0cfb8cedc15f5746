// Package cli is activator's command line: the server (`activator serve`) and
// an operator's client for the admin API (groups, profiles, accounts, messages)
// and for the reference device client.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/app"
)

// Environment variables the command line reads.
const (
	envURL       = "ACTIVATOR_URL"
	envToken     = "ACTIVATOR_TOKEN"
	envTokenFile = "ACTIVATOR_TOKEN_FILE"
	envOrg       = "ACTIVATOR_ORG"
)

// Defaults of the global flags.
const (
	defaultURL       = "http://127.0.0.1:8080"
	defaultTokenFile = "data/admin.token"
)

// Output formats of -o/--output.
const (
	outputText = "text"
	outputJSON = "json"
)

// Env is what the command line takes from the process that runs it.
type Env struct {
	// Getenv reads an environment variable; nil reads none.
	Getenv func(string) string
	// Version is the build's version; empty falls back to the module version.
	Version string
}

func (e Env) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// globals holds the global flags and the environment; every command gets it.
type globals struct {
	env    Env
	url    string
	token  string
	org    string
	output string
	// serve, when set, is run by `activator serve` instead of the server,
	// with the configuration it resolved (tests).
	serve func(cfg app.Config, logLevel, logFormat string) error
}

// NewRootCmd builds the whole `activator` command tree.
func NewRootCmd(env Env) *cobra.Command {
	a := &globals{env: env}
	root := &cobra.Command{
		Use:   "activator",
		Short: "Automatic service activation for secure VoIP clients",
		Long: `activator creates VoIP accounts and sends their users a secure link that
installs and activates the client on their phone with no typing.

"activator serve" runs the server. The other commands talk to a running
server's admin API: they need its URL and an API token.

The URL comes from --url, else $ACTIVATOR_URL, else ` + defaultURL + `.
The token comes from --token, else $ACTIVATOR_TOKEN, else the file named by
$ACTIVATOR_TOKEN_FILE, else ./` + defaultTokenFile + ` when it exists (the server
writes it there on first start: the provider admin's token).

A provider admin acts inside one of the organisations with --org SLUG
(else $ACTIVATOR_ORG); "activator org" manages the organisations.`,
		Example: `  activator serve
  activator group create sales --it-email it@example.com
  activator account create --group sales --name "Ada Lovelace" --mobile +393331234567
  activator account send 1234567890 --channel sms
  activator account list -o json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noSubcommand,
		RunE:          helpRun,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.output != outputText && a.output != outputJSON {
				return fmt.Errorf("--output %q: want text or json", a.output)
			}
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&a.url, "url", defaultURL, "base URL of the activator server (env "+envURL+")")
	// The token's default is never taken from the environment here: help
	// prints flag defaults, and the token must not reach a terminal.
	f.StringVar(&a.token, "token", "", "admin API token (env "+envToken+", or the file named by "+envTokenFile+", or ./"+defaultTokenFile+")")
	f.StringVar(&a.org, "org", "", "act inside this organisation (its slug): provider admins only (env "+envOrg+")")
	f.StringVarP(&a.output, "output", "o", outputText, "output format: text or json")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %q)", err, cmd.CommandPath()+" --help")
	})

	root.AddCommand(
		newServeCmd(a),
		newGroupCmd(a),
		newProfileCmd(a),
		newAppCmd(a),
		newSettingsCmd(a),
		newTemplateCmd(a),
		newAccountCmd(a),
		newDeviceAccessCmd(a),
		newMessagesCmd(a),
		newOutboxCmd(a),
		newGatewayCmd(a),
		newDeviceCmd(a),
		newVersionCmd(a),
		newBackupCmd(a),
	)
	root.AddCommand(newKeysCmd(a))                                                       // offline: opens the database itself (keys.go)
	root.AddCommand(newOperatorCmd(a), newTokenCmd(a), newImportCmd(a), newExportCmd(a)) // the console's operators, tokens, import and export
	root.AddCommand(newOrgCmd(a))                                                        // the provider's organisations
	return root
}

// client builds an API client from the global flags, the environment and the
// token file, in that order.
func (a *globals) client(cmd *cobra.Command) (*apiClient, error) {
	base := a.url
	if !cmd.Flags().Changed("url") {
		if v := a.env.getenv(envURL); v != "" {
			base = v
		}
	}
	token, err := a.resolveToken(cmd)
	if err != nil {
		return nil, err
	}
	c, err := newAPIClient(base, token)
	if err != nil {
		return nil, err
	}
	c.org = a.org
	if !cmd.Flags().Changed("org") {
		c.org = a.env.getenv(envOrg)
	}
	return c, nil
}

// resolveToken finds the API token. Errors name where it was looked for,
// never what was found.
func (a *globals) resolveToken(cmd *cobra.Command) (string, error) {
	if cmd.Flags().Changed("token") {
		if t := strings.TrimSpace(a.token); t != "" {
			return t, nil
		}
		return "", errors.New("--token is empty")
	}
	if t := strings.TrimSpace(a.env.getenv(envToken)); t != "" {
		return t, nil
	}
	if path := a.env.getenv(envTokenFile); path != "" {
		t, err := readTokenFile(path)
		if err != nil {
			return "", fmt.Errorf("reading the token file named by %s: %w", envTokenFile, err)
		}
		return t, nil
	}
	t, err := readTokenFile(defaultTokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no API token: give --token, set %s or %s, or run where ./%s exists", envToken, envTokenFile, defaultTokenFile)
	}
	if err != nil {
		return "", fmt.Errorf("reading ./%s: %w", defaultTokenFile, err)
	}
	return t, nil
}

// readTokenFile reads a token from the first non-empty line of path.
func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(line); t != "" {
			return t, nil
		}
	}
	return "", fmt.Errorf("%s is empty", path)
}

// printer returns the output writer for cmd in the chosen format.
func (a *globals) printer(cmd *cobra.Command) *printer {
	return &printer{w: cmd.OutOrStdout(), json: a.output == outputJSON}
}

// callAndPrint is the body of a command that makes one call to the admin
// API: it builds the client from the global flags, sends call and hands the
// answer to show. A command checks its own flags and arguments before, so
// those mistakes are reported without a server or a token.
func callAndPrint[T any](a *globals, cmd *cobra.Command, call apiCall[T], show func(*printer, T, json.RawMessage) error) error {
	c, err := a.client(cmd)
	if err != nil {
		return err
	}
	v, raw, err := call(cmd.Context(), c)
	if err != nil {
		return err
	}
	return show(a.printer(cmd), v, raw)
}

// deleteRun runs "<what> delete NAME": it deletes collection/NAME and says
// so in text; -o json prints nothing, as the API answers nothing.
func deleteRun(a *globals, what, collection string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return callAndPrint(a, cmd, writeOnly(http.MethodDelete, collection+seg(args[0]), nil, nil),
			func(p *printer, _ struct{}, _ json.RawMessage) error {
				if !p.json {
					p.line("deleted %s %s", what, cell(args[0]))
				}
				return nil
			})
	}
}

// version returns the build's version.
func (a *globals) version() string {
	if a.env.Version != "" {
		return a.env.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// parentCmd builds a command that only groups subcommands: alone it prints
// its help, with an unknown subcommand it fails.
func parentCmd(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long,
		Example: example,
		Args:    noSubcommand,
		RunE:    helpRun,
	}
	c.AddCommand(subs...)
	return c
}

func helpRun(cmd *cobra.Command, args []string) error { return cmd.Help() }

// noSubcommand refuses arguments on a command that only holds subcommands.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownCommand(cmd, args[0])
}

// unknownCommand is the one-line refusal of a subcommand parent does not
// have, with cobra's spelling suggestions when there are some.
func unknownCommand(parent *cobra.Command, name string) error {
	hint := ""
	if parent.SuggestionsMinimumDistance <= 0 {
		parent.SuggestionsMinimumDistance = 2
	}
	if s := parent.SuggestionsFor(name); len(s) > 0 {
		hint = fmt.Sprintf("; did you mean %q?", s[0])
	}
	return fmt.Errorf("unknown command %q for %q%s (see %q)", name, parent.CommandPath(), hint, parent.CommandPath()+" --help")
}

// Execute runs the command tree on args, as main does. An unknown command
// is refused in every form: cobra alone would answer "activator org --help"
// or "activator help org" with the parent's help and succeed, so a script's
// typo would look like success.
func Execute(ctx context.Context, root *cobra.Command, args []string) error {
	if err := refuseUnknownCommand(root, args); err != nil {
		return err
	}
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func refuseUnknownCommand(root *cobra.Command, args []string) error {
	if len(args) > 0 && args[0] == "help" {
		args = args[1:] // "help X Y" asks about the command "X Y"
	}
	cmd, rest, err := root.Find(args)
	if err != nil || !cmd.HasAvailableSubCommands() {
		return nil // cobra's own checks answer
	}
	cmd.InitDefaultHelpFlag()
	if err := cmd.ParseFlags(rest); err != nil {
		return nil // the flag error is cobra's to report
	}
	if pos := cmd.Flags().Args(); len(pos) > 0 {
		return unknownCommand(cmd, pos[0])
	}
	return nil
}

// exactArgs wants exactly the named positional arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			for i, v := range args {
				if strings.TrimSpace(v) == "" {
					return fmt.Errorf("%s: %s is empty", cmd.CommandPath(), names[i])
				}
			}
			return nil
		}
		want := strings.Join(names, " ")
		if len(names) == 0 {
			return fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
		}
		if len(args) < len(names) {
			return fmt.Errorf("%s needs %s; missing %s (see %q)", cmd.CommandPath(), want, strings.Join(names[len(args):], " "), cmd.CommandPath()+" --help")
		}
		return fmt.Errorf("%s takes only %s; unexpected %q (see %q)", cmd.CommandPath(), want, strings.Join(args[len(names):], " "), cmd.CommandPath()+" --help")
	}
}
