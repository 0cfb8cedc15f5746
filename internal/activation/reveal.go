package activation

// mayReveal reports whether the caller may see a live secret whole: a
// link that can still be used, in the outbox; a gateway's receipt key.
// Only an admin may: admins configure activator and need to try its flow
// and set up its providers. A CSR or an auditor holding a live link could
// redeem it, get the account's SIP password and cut the real user off;
// holding a receipt key, they could mark messages delivered.
func mayReveal(by Caller) bool { return RoleAllows(by.Role, PermConfig) }
