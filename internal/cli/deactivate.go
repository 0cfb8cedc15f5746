package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/model"
)

// The commands for a lost or stolen phone: deactivate one device, or
// revoke every key of an account.

func newDeviceDeactivateCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "deactivate USERNAME DEVICE",
		Short: "Deactivate one device of an account at once",
		Long: `Deactivate one device of an account, named by its device ID as "account show"
lists it (or by its number in the API's devices list): its credential stops
working, the account's SIP password changes so the device can no longer
register, and the account's SIP registrations are dropped at once. Another
device of the account gets the new password at its next re-provisioning.
To activate the user's new phone, send a new link.`,
		Example: `  activator device-access deactivate 1234567890 3f9a1c2e-android`,
		Args:    exactArgs("USERNAME", "DEVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := deviceNumber(cmd.Context(), a, cmd, args[0], args[1])
			if err != nil {
				return err
			}
			return callAndPrint(a, cmd, writeJSON[model.KeysRevoked](http.MethodPost, fmt.Sprintf("/accounts%s/devices/%d/deactivate", seg(args[0]), id), nil),
				printKeysRevoked("deactivated device "+cell(args[1])+" of account "+cell(args[0])))
		},
	}
}

func newAccountRevokeKeysCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke-keys USERNAME",
		Short: "Revoke every key of an account: all its devices and its SIP password",
		Long: `Revoke all keys of an account: every device credential stops working, the SIP
password changes so no device can register with the old one, and the
account's SIP registrations are dropped at once. Unlike "device-access
revoke", which ends the credentials only, a phone that kept the password can
no longer register. To activate a device again, send a new link.`,
		Example: `  activator account revoke-keys 1234567890`,
		Args:    exactArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAndPrint(a, cmd, writeJSON[model.KeysRevoked](http.MethodPost, "/accounts"+seg(args[0])+"/revoke-keys", nil),
				printKeysRevoked("revoked every key of account "+cell(args[0])))
		},
	}
}

func printKeysRevoked(what string) func(*printer, model.KeysRevoked, json.RawMessage) error {
	return func(p *printer, r model.KeysRevoked, raw json.RawMessage) error {
		if p.json {
			return p.rawJSON(raw)
		}
		pw := "the SIP password changed"
		if !r.SIPPassword {
			pw = "the account had no SIP password yet"
		}
		p.line("%s: %d device credential(s) ended, %d registration(s) dropped, %s", what, r.Devices, r.Registrations, pw)
		return nil
	}
}

// deviceNumber finds the live device of an account that name names: its
// device ID, or its number.
func deviceNumber(ctx context.Context, a *globals, cmd *cobra.Command, username, name string) (int64, error) {
	c, err := a.client(cmd)
	if err != nil {
		return 0, err
	}
	d, _, err := getJSON[model.AccountDetail]("/accounts"+seg(username), nil)(ctx, c)
	if err != nil {
		return 0, err
	}
	for _, dev := range d.Devices {
		if dev.RevokedAt == nil && dev.DeviceID == name {
			return dev.ID, nil
		}
	}
	if n, err := strconv.ParseInt(name, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("account %s has no live device %q (see: activator account show %s)", cell(username), cell(name), cell(username))
}
