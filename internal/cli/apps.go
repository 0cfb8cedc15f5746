package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
)

// checkPlatform refuses a platform activator does not know.
func checkPlatform(p string) error {
	if !model.ValidPlatform(p) {
		return fmt.Errorf("unknown platform %q; valid: %s", p, strings.Join(model.Platforms, ", "))
	}
	return nil
}

// checkSecurityModel refuses a security model activator does not know.
func checkSecurityModel(flag, m string) error {
	if !model.SecurityModel(m).Valid() {
		return fmt.Errorf("%s %q: want one of %s", flag, m, joinModels())
	}
	return nil
}

func newAppCmd(a *globals) *cobra.Command {
	return parentCmd("app", "Manage client download URLs",
		`The installation link sends each user to the client package for their
platform and security model. A URL set without --security-model is the
platform's fallback for both models.

Platforms: `+strings.Join(model.Platforms, ", ")+`.
Security models: `+joinModels()+`.`,
		`  activator app set android https://play.google.com/store/apps/details?id=com.example.voip
  activator app set ios --security-model end-to-site https://apps.apple.com/app/id123456
  activator app list`,
		newAppSetCmd(a), newAppListCmd(a), newAppUnsetCmd(a))
}

func newAppSetCmd(a *globals) *cobra.Command {
	var securityModel string
	cmd := &cobra.Command{
		Use:   "set PLATFORM URL",
		Short: "Set the download URL of a platform",
		Long: `Set the URL the installation link leads to for a platform, optionally for
one security model only; it replaces the URL set before for the same pair.

Platforms: ` + strings.Join(model.Platforms, ", ") + `.`,
		Example: `  activator app set android https://play.google.com/store/apps/details?id=com.example.voip
  activator app set windows --security-model end-to-end https://downloads.example.com/voip-e2e.msi`,
		Args: exactArgs("PLATFORM", "URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := model.AppURL{Platform: args[0], URL: args[1]}
			if err := checkPlatform(in.Platform); err != nil {
				return err
			}
			if cmd.Flags().Changed("security-model") {
				if err := checkSecurityModel("--security-model", securityModel); err != nil {
					return err
				}
				in.SecurityModel = model.SecurityModel(securityModel)
			}
			if u, err := url.Parse(in.URL); err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
				return fmt.Errorf("URL %q: want an absolute URL such as https://example.com/app", in.URL)
			}
			return callAndPrint(a, cmd, writeJSON[model.AppURL](http.MethodPut, "/apps", in), printApp)
		},
	}
	cmd.Flags().StringVar(&securityModel, "security-model", "", "only for this security model ("+joinModels()+")")
	return cmd
}

func newAppListCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List download URLs",
		Long:    `List the client download URLs by platform and security model; "any" is a platform's fallback.`,
		Example: `  activator app list`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, getJSON[appList]("/apps", nil), printAppList)
		},
	}
}

func newAppUnsetCmd(a *globals) *cobra.Command {
	var securityModel string
	cmd := &cobra.Command{
		Use:   "unset PLATFORM",
		Short: "Remove the download URL of a platform",
		Long:  "Remove a platform's download URL: its fallback, or with --security-model the one for that model.",
		Example: `  activator app unset android
  activator app unset ios --security-model end-to-site`,
		Args: exactArgs("PLATFORM"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkPlatform(args[0]); err != nil {
				return err
			}
			if cmd.Flags().Changed("security-model") {
				if err := checkSecurityModel("--security-model", securityModel); err != nil {
					return err
				}
			}
			var q url.Values
			if securityModel != "" {
				q = url.Values{"security_model": {securityModel}}
			}
			return callAndPrint(a, cmd, writeOnly(http.MethodDelete, "/apps"+seg(args[0]), q, nil),
				func(p *printer, _ struct{}, _ json.RawMessage) error {
					if !p.json {
						p.line("removed the download URL of %s (%s)", args[0], modelOrAny(model.SecurityModel(securityModel)))
					}
					return nil
				})
		},
	}
	cmd.Flags().StringVar(&securityModel, "security-model", "", "the security model whose URL to remove (default: the platform's fallback)")
	return cmd
}

func printApp(p *printer, ap model.AppURL, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	return p.block([]kv{
		{"platform", ap.Platform},
		{"security model", modelOrAny(ap.SecurityModel)},
		{"url", ap.URL},
	})
}

// printAppList prints the download URLs as a table.
func printAppList(p *printer, v appList, raw json.RawMessage) error {
	return printList(p, raw, v.Apps, "no download URLs", []string{"PLATFORM", "SECURITY MODEL", "URL"},
		func(ap model.AppURL) []string { return []string{ap.Platform, modelOrAny(ap.SecurityModel), ap.URL} })
}

// modelOrAny shows an empty security model as "any".
func modelOrAny(m model.SecurityModel) string {
	if m == "" {
		return "any"
	}
	return string(m)
}
