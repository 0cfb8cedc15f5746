package activation

import "github.com/activator-voip/activator/internal/model"

// Permissions, and the roles that hold them.
const (
	PermRead     = "read"     // see everything
	PermAccounts = "accounts" // create, change and delete accounts; send and revoke their links
	PermConfig   = "config"   // change configuration: groups, profiles, downloads, settings, gateways, operators
	PermAudit    = "audit"    // read the audit log
	PermOrgs     = "orgs"     // create, suspend and delete organisations, see their counts, act inside any of them
)

var rolePerms = map[model.Role][]string{
	model.RoleProvider: {PermRead, PermAccounts, PermConfig, PermAudit, PermOrgs},
	model.RoleAdmin:    {PermRead, PermAccounts, PermConfig, PermAudit},
	model.RoleCSR:      {PermRead, PermAccounts},
	model.RoleAuditor:  {PermRead, PermAudit},
}

// RoleAllows reports whether role holds perm.
func RoleAllows(role model.Role, perm string) bool {
	for _, p := range rolePerms[role] {
		if p == perm {
			return true
		}
	}
	return false
}
