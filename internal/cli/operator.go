package cli

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/model"
)

func newOperatorCmd(a *globals) *cobra.Command {
	return parentCmd("operator", "Manage the operators who use the web console",
		`Operators log in to the web console at /console/ with a name and a
password. Roles: admin does everything; csr manages accounts and sends
messages; auditor only reads. A new operator gets a one-time link to set
their password; send it to them.`,
		`  activator operator add ada --role csr
  activator operator list
  activator operator disable ada`,
		newOperatorAddCmd(a), newOperatorListCmd(a), newOperatorActionCmd(a, "disable", "Disable an operator: their sessions end and their API tokens stop"),
		newOperatorActionCmd(a, "enable", "Enable an operator again"),
		newOperatorActionCmd(a, "reset-password", "Print a new one-time link to set the operator's password"),
		newOperatorRoleCmd(a))
}

func printOperatorCreated(p *printer, o model.OperatorCreated, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	p.line("operator %s (%s)", o.Operator.Name, o.Operator.Role)
	p.line("one-time link to set the password, valid until %s:", fmtTime(o.ExpiresAt))
	p.line("  %s", o.SetPasswordURL)
	return nil
}

func newOperatorAddCmd(a *globals) *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add an operator and print their one-time set-password link",
		Long: `Add an operator with a role (admin, csr or auditor; default csr). The
operator has no password yet: the command prints a one-time link, valid for
72 hours, that opens the console's set-password page. Send it to them.`,
		Example: `  activator operator add ada --role csr`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := model.Role(role)
			in := model.OperatorInput{Name: &args[0], Role: &r}
			return callAndPrint(a, cmd, writeJSON[model.OperatorCreated](http.MethodPost, "/operators", in), printOperatorCreated)
		},
	}
	cmd.Flags().StringVar(&role, "role", string(model.RoleCSR), "admin, csr or auditor")
	return cmd
}

func newOperatorListCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List operators",
		Long:    "List operators with their role and state: active, disabled, locked after wrong passwords, or without a password yet.",
		Example: "  activator operator list -o json",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[operatorList]("/operators", nil), printOperatorList)
		},
	}
}

func newOperatorActionCmd(a *globals, action, short string) *cobra.Command {
	return &cobra.Command{
		Use:     action + " NAME",
		Short:   short,
		Long:    short + ".",
		Example: "  activator operator " + action + " ada",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/operators" + seg(args[0]) + "/" + action
			if action == "reset-password" {
				return callAndPrint(a, cmd, writeJSON[model.OperatorCreated](http.MethodPost, path, nil), printOperatorCreated)
			}
			return callAndPrint(a, cmd, writeJSON[model.Operator](http.MethodPost, path, nil),
				func(p *printer, o model.Operator, raw json.RawMessage) error {
					if p.json {
						return p.rawJSON(raw)
					}
					p.line("operator %s: %sd", o.Name, action)
					return nil
				})
		},
	}
}

func newOperatorRoleCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "role NAME ROLE",
		Short:   "Change an operator's role (admin, csr or auditor)",
		Long:    "Change an operator's role. Their sessions and API tokens take the new role at once. Nobody changes their own role.",
		Example: "  activator operator role ada auditor",
		Args:    exactArgs("NAME", "ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			role := model.Role(args[1])
			in := model.OperatorInput{Role: &role}
			return callAndPrint(a, cmd, writeJSON[model.Operator](http.MethodPatch, "/operators"+seg(args[0]), in),
				func(p *printer, o model.Operator, raw json.RawMessage) error {
					if p.json {
						return p.rawJSON(raw)
					}
					p.line("operator %s is now %s", o.Name, o.Role)
					return nil
				})
		},
	}
}

func newTokenCmd(a *globals) *cobra.Command {
	return parentCmd("token", "Manage API tokens of operators",
		`An API token acts as its operator, with the operator's role, and stops
working when the operator is disabled or the token revoked. The token is
printed once, when it is created; listings show its first characters only.`,
		`  activator token create laptop --operator ada
  activator token list
  activator token revoke 3`,
		newTokenCreateCmd(a), newTokenListCmd(a), newTokenRevokeCmd(a))
}

func newTokenCreateCmd(a *globals) *cobra.Command {
	var operator string
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create an API token for an operator and print it once",
		Long:    "Create an API token that acts as the operator, with the operator's role. Only admins create tokens. The token is printed once; keep it.",
		Example: "  activator token create laptop --operator ada",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := model.TokenInput{Name: args[0], Operator: operator}
			return callAndPrint(a, cmd, writeJSON[model.TokenCreated](http.MethodPost, "/tokens", in),
				func(p *printer, out model.TokenCreated, raw json.RawMessage) error {
					if p.json {
						return p.rawJSON(raw)
					}
					p.line("token %d for %s (%s); it is not shown again:", out.APIToken.ID, out.APIToken.Operator, out.APIToken.Role)
					p.line("%s", out.Token)
					return nil
				})
		},
	}
	cmd.Flags().StringVar(&operator, "operator", "", "the operator the token acts as (default: the caller)")
	return cmd
}

func newTokenListCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List API tokens (never the tokens themselves)",
		Long:    "List API tokens with their operator, role and first characters. An admin sees every token; others their own.",
		Example: "  activator token list",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[tokenList]("/tokens", nil), printTokenList)
		},
	}
}

func newTokenRevokeCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke an API token",
		Long:    "Revoke an API token by the id its listing shows. It stops working at once.",
		Example: "  activator token revoke 3",
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, writeOnly(http.MethodDelete, "/tokens"+seg(args[0]), nil, nil),
				func(p *printer, _ struct{}, _ json.RawMessage) error {
					p.line("token %s revoked", args[0])
					return nil
				})
		},
	}
}

// printOperatorList prints the operators with their role and state.
func printOperatorList(p *printer, v operatorList, raw json.RawMessage) error {
	return printList(p, raw, v.Operators, "", []string{"name", "role", "state", "last login"},
		func(o model.Operator) []string {
			state := "active"
			switch {
			case o.Disabled:
				state = "disabled"
			case o.LockedUntil != nil:
				state = "locked until " + fmtTime(*o.LockedUntil)
			case !o.HasPassword:
				state = "no password yet"
			}
			return []string{cell(o.Name), string(o.Role), state, fmtTimePtr(o.LastLoginAt)}
		})
}

// printTokenList prints the API tokens by their first characters, never whole.
func printTokenList(p *printer, v tokenList, raw json.RawMessage) error {
	return printList(p, raw, v.Tokens, "", []string{"id", "name", "operator", "role", "token", "created", "state"},
		func(t model.APIToken) []string {
			state := "live"
			if t.RevokedAt != nil {
				state = "revoked"
			}
			return []string{strconv.FormatInt(t.ID, 10), cell(t.Name), cell(t.Operator), string(t.Role), t.Prefix, fmtTime(t.CreatedAt), state}
		})
}
