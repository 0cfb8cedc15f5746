package console

import "net/http"

// flash is the code of a short message a redirect shows on the page it
// leads to (?flash=saved). Only the code travels in the URL: the page
// prints the text flashes holds for it, and nothing for a code it does not
// know, so no link can make a console page print a text of its author's
// choosing (a phishing message on a real console page). A message that
// must name something the operator sent (a bulk action's failures) is
// rendered by the handler itself, never carried in a URL.
type flash string

// The flash codes.
const (
	flashSaved           flash = "saved"
	flashSelectAccounts  flash = "select_accounts"
	flashChooseAction    flash = "choose_action"
	flashBulkDone        flash = "bulk_done"
	flashAccountCreated  flash = "account_created"
	flashLinkQueued      flash = "link_queued"
	flashLinksRevoked    flash = "links_revoked"
	flashNoLiveLink      flash = "no_live_link"
	flashDevicesRevoked  flash = "devices_revoked"
	flashNoDevice        flash = "no_device"
	flashDeactivated     flash = "device_deactivated"
	flashKeysRevoked     flash = "keys_revoked"
	flashAccountDisabled flash = "account_disabled"
	flashAccountEnabled  flash = "account_enabled"
	flashAccountDeleted  flash = "account_deleted"
	flashLoggedOut       flash = "logged_out"
	flashPasswordSet     flash = "password_set"
	flashImported        flash = "imported"
	flashImporting       flash = "importing"
	flashImportCancelled flash = "import_cancelled"
	flashGroupCreated    flash = "group_created"
	flashGroupSaved      flash = "group_saved"
	flashGroupDeleted    flash = "group_deleted"
	flashProfileCreated  flash = "profile_created"
	flashOperatorOff     flash = "operator_disabled"
	flashOperatorOn      flash = "operator_enabled"
	flashRoleChanged     flash = "role_changed"
	flashTokenRevoked    flash = "token_revoked"
	flashOrgCreated      flash = "org_created"
	flashOrgSuspended    flash = "org_suspended"
	flashOrgResumed      flash = "org_resumed"
	flashActingIn        flash = "acting_in"
	flashActingHome      flash = "acting_home"
)

// flashes is every flash code's text.
var flashes = map[flash]string{
	flashSaved:           "Saved.",
	flashSelectAccounts:  "Select some accounts first.",
	flashChooseAction:    "Choose an action.",
	flashBulkDone:        "Done for every selected account.",
	flashAccountCreated:  "Account created.",
	flashLinkQueued:      "The link is queued: its message and delivery state are listed below.",
	flashLinksRevoked:    "The account's live links are revoked.",
	flashNoLiveLink:      "The account had no live link to revoke.",
	flashDevicesRevoked:  "The account's device credentials are revoked.",
	flashNoDevice:        "The account had no device credential to revoke.",
	flashDeactivated:     "The device is deactivated: its credential no longer works, the SIP password changed and its registrations are gone.",
	flashKeysRevoked:     "Every key of the account is revoked: no device credential works, the SIP password changed and its registrations are gone.",
	flashAccountDisabled: "Account disabled.",
	flashAccountEnabled:  "Account enabled.",
	flashAccountDeleted:  "Account deleted.",
	flashLoggedOut:       "You are logged out.",
	flashPasswordSet:     "Your password is set.",
	flashImported:        "Imported: the new accounts are counted below.",
	flashImporting:       "Importing: the server goes on by itself, and this page follows it.",
	flashImportCancelled: "The import was cancelled: nothing was imported.",
	flashGroupCreated:    "Group created.",
	flashGroupSaved:      "Group saved.",
	flashGroupDeleted:    "Group deleted.",
	flashProfileCreated:  "Profile created.",
	flashOperatorOff:     "Operator disabled.",
	flashOperatorOn:      "Operator enabled.",
	flashRoleChanged:     "Role changed.",
	flashTokenRevoked:    "Token revoked.",
	flashOrgCreated:      "Organisation created: act inside it to make its admin.",
	flashOrgSuspended:    "Organisation suspended: its operators, tokens, links and devices are refused until it is resumed.",
	flashOrgResumed:      "Organisation resumed.",
	flashActingIn:        "You are acting inside the organisation named at the top: what you do is audited there, under your name.",
	flashActingHome:      "You are back in your own organisation.",
}

// flashOf is the text of the flash code in r's URL; "" for none, and for
// a code that is not in the table.
func flashOf(r *http.Request) string {
	return flashes[flash(r.URL.Query().Get("flash"))]
}
