package console

import (
	"github.com/activator-voip/activator/internal/activation"
	"github.com/activator-voip/activator/internal/secret"
)

const (
	permRead     = activation.PermRead
	permAccounts = activation.PermAccounts
	permConfig   = activation.PermConfig
	permOrgs     = activation.PermOrgs
)

// routeTable is every console route with the permission it needs. Every
// POST is a change: it is CSRF-checked and written to the audit log.
func (c *Console) routeTable() []Route {
	return []Route{
		{Method: "GET", Path: "/console/login", Public: true, h: c.loginForm},
		{Method: "POST", Path: "/console/login", Public: true, h: c.login},
		{Method: "GET", Path: "/console/set-password/{token}", Public: true, h: c.setPasswordForm},
		{Method: "POST", Path: "/console/set-password/{token}", Public: true, h: c.setPassword},
		{Method: "POST", Path: "/console/logout", Perm: permRead, h: c.logout},

		{Method: "GET", Path: "/console/{$}", Perm: permRead, h: c.dashboard},

		{Method: "GET", Path: "/console/accounts", Perm: permRead, h: c.accounts},
		{Method: "POST", Path: "/console/accounts/bulk", Perm: permAccounts, h: c.bulk},
		{Method: "GET", Path: "/console/accounts/new", Perm: permAccounts, h: c.accountNewForm},
		{Method: "POST", Path: "/console/accounts/new", Perm: permAccounts, h: c.accountCreate},
		{Method: "GET", Path: "/console/accounts/{username}", Perm: permRead, h: c.account},
		{Method: "GET", Path: "/console/accounts/{username}/edit", Perm: permAccounts, h: c.accountEditForm},
		{Method: "POST", Path: "/console/accounts/{username}/edit", Perm: permAccounts, h: c.accountUpdate},
		{Method: "POST", Path: "/console/accounts/{username}/send", Perm: permAccounts, h: c.accountSend},
		{Method: "POST", Path: "/console/accounts/{username}/revoke", Perm: permAccounts, h: c.accountRevoke},
		{Method: "POST", Path: "/console/accounts/{username}/qr", Perm: permAccounts, h: c.accountQR},
		{Method: "POST", Path: "/console/accounts/{username}/device-access/revoke", Perm: permAccounts, h: c.accountRevokeDevices},
		{Method: "POST", Path: "/console/accounts/{username}/devices/{id}/deactivate", Perm: permAccounts, h: c.accountDeactivateDevice},
		{Method: "POST", Path: "/console/accounts/{username}/revoke-keys", Perm: permAccounts, h: c.accountRevokeKeys},
		{Method: "POST", Path: "/console/accounts/{username}/disable", Perm: permAccounts, h: c.accountDisable},
		{Method: "POST", Path: "/console/accounts/{username}/enable", Perm: permAccounts, h: c.accountEnable},
		{Method: "POST", Path: "/console/accounts/{username}/delete", Perm: permAccounts, h: c.accountDelete},
		{Method: "GET", Path: "/console/export/accounts.csv", Perm: permRead, h: c.exportAccounts},

		{Method: "GET", Path: "/console/import", Perm: permAccounts, h: c.importForm},
		{Method: "POST", Path: "/console/import", Perm: permAccounts, h: c.importUpload},
		{Method: "GET", Path: "/console/imports/{id}", Perm: permRead, h: c.importPage},
		{Method: "POST", Path: "/console/imports/{id}/confirm", Perm: permAccounts, h: c.importConfirm},
		{Method: "POST", Path: "/console/imports/{id}/cancel", Perm: permAccounts, h: c.importCancel},
		{Method: "POST", Path: "/console/imports/{id}/send", Perm: permAccounts, h: c.importSend},

		{Method: "GET", Path: "/console/outbox", Perm: permRead, h: c.outbox},
		{Method: "GET", Path: "/console/outbox/{id}", Perm: permRead, h: c.outboxItem},
		{Method: "GET", Path: "/console/messages", Perm: permRead, h: c.messages},

		{Method: "GET", Path: "/console/groups", Perm: permRead, h: c.groups},
		{Method: "POST", Path: "/console/groups", Perm: permConfig, h: c.groupCreate},
		{Method: "POST", Path: "/console/groups/{name}", Perm: permConfig, h: c.groupUpdate},
		{Method: "POST", Path: "/console/groups/{name}/delete", Perm: permConfig, h: c.groupDelete},
		{Method: "GET", Path: "/console/profiles", Perm: permRead, h: c.profiles},
		{Method: "GET", Path: "/console/profiles/{name}", Perm: permRead, h: c.profile},
		{Method: "POST", Path: "/console/profiles/{name}", Perm: permConfig, h: c.profileUpdate},
		{Method: "POST", Path: "/console/profiles", Perm: permConfig, h: c.profileCreate},
		{Method: "GET", Path: "/console/downloads", Perm: permRead, h: c.downloads},
		{Method: "POST", Path: "/console/downloads", Perm: permConfig, h: c.downloadsSave},
		{Method: "GET", Path: "/console/settings", Perm: permRead, h: c.settings},
		{Method: "POST", Path: "/console/settings", Perm: permConfig, h: c.settingsSave},

		{Method: "GET", Path: "/console/operators", Perm: permRead, h: c.operators},
		{Method: "POST", Path: "/console/operators", Perm: permConfig, h: c.operatorCreate},
		{Method: "POST", Path: "/console/operators/{name}/disable", Perm: permConfig, h: c.operatorDisable},
		{Method: "POST", Path: "/console/operators/{name}/enable", Perm: permConfig, h: c.operatorEnable},
		{Method: "POST", Path: "/console/operators/{name}/reset-password", Perm: permConfig, h: c.operatorReset},
		{Method: "POST", Path: "/console/operators/{name}/role", Perm: permConfig, h: c.operatorRole},
		{Method: "GET", Path: "/console/tokens", Perm: permRead, h: c.tokens},
		{Method: "POST", Path: "/console/tokens", Perm: permConfig, h: c.tokenCreate},
		{Method: "POST", Path: "/console/tokens/{id}/revoke", Perm: permConfig, h: c.tokenRevoke},

		{Method: "GET", Path: "/console/audit", Perm: activation.PermAudit, h: c.auditLog},

		{Method: "GET", Path: "/console/gateways", Perm: permRead, h: c.gateways},
		{Method: "POST", Path: "/console/gateways/{name}/test", Perm: permConfig, h: c.gatewayTest},
		{Method: "GET", Path: "/console/templates", Perm: permRead, h: c.templates},
		{Method: "POST", Path: "/console/templates", Perm: permConfig, h: c.templateSave},

		{Method: "GET", Path: "/console/orgs", Perm: permOrgs, h: c.orgs},
		{Method: "POST", Path: "/console/orgs", Perm: permOrgs, h: c.orgCreate},
		{Method: "POST", Path: "/console/orgs/act", Perm: permOrgs, h: c.orgAct},
		{Method: "POST", Path: "/console/orgs/{org}/suspend", Perm: permOrgs, h: c.orgSuspend},
		{Method: "POST", Path: "/console/orgs/{org}/resume", Perm: permOrgs, h: c.orgResume},
	}
}

func randomToken() string {
	t, _ := secret.NewToken("")
	return t
}
