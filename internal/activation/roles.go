package activation

// Permissions, and the roles that hold them.
const (
	PermRead     = "read"     // see everything
	PermAccounts = "accounts" // create, change and delete accounts; send and revoke their links
	PermConfig   = "config"   // change configuration: groups, profiles, downloads, settings, gateways, operators
	PermAudit    = "audit"    // read the audit log
)

// Roles lists every role.
var Roles = []string{"admin", "csr", "auditor"}

var rolePerms = map[string][]string{
	"admin":   {PermRead, PermAccounts, PermConfig, PermAudit},
	"csr":     {PermRead, PermAccounts},
	"auditor": {PermRead, PermAudit},
}

// RoleAllows reports whether role holds perm.
func RoleAllows(role, perm string) bool {
	for _, p := range rolePerms[role] {
		if p == perm {
			return true
		}
	}
	return false
}
