package store

import "context"

// OpenAt opens dsn with its schema brought up to version only, as the
// activator that had that schema left it, so a test can write rows the
// way that version did and then open the database with Open.
func OpenAt(ctx context.Context, dsn string, version int) (*Store, error) {
	return open(ctx, dsn, version)
}

// MigrationCount is how many migrations the binary holds for d.
func MigrationCount(d Dialect) int {
	ms, _ := loadMigrations(d)
	return len(ms)
}
