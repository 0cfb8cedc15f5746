package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// BackupInfo describes a backup BackupSQLite wrote.
type BackupInfo struct {
	SchemaVersion int   // the newest migration in the copy
	Bytes         int64 // the copy's size
}

// BackupSQLite writes a consistent copy of the SQLite database at path to
// dest with VACUUM INTO, while a server may be using it: the copy is the
// database as one read transaction sees it, so every write committed
// before it began is in it and none after. It never migrates or creates
// the source, refuses a dest that exists (it is created empty, private to
// its owner, before SQLite fills it), and checks the copy with SQLite's
// integrity check. On error no dest is left behind.
func BackupSQLite(ctx context.Context, path, dest string) (BackupInfo, error) {
	if _, err := os.Stat(path); err != nil {
		return BackupInfo{}, fmt.Errorf("reading the database to back up: %w", err)
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return BackupInfo{}, fmt.Errorf("%s already exists: a backup never overwrites a file; name a new one", dest)
	}
	if err != nil {
		return BackupInfo{}, fmt.Errorf("creating the backup file: %w", err)
	}
	f.Close()
	info, err := backupSQLite(ctx, path, dest)
	if err != nil {
		os.Remove(dest)
		return BackupInfo{}, err
	}
	return info, nil
}

func backupSQLite(ctx context.Context, path, dest string) (BackupInfo, error) {
	q := url.Values{}
	q.Set("mode", "rw") // never create the source
	q.Add("_pragma", "busy_timeout(10000)")
	src, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return BackupInfo{}, fmt.Errorf("opening the database to back up: %w", err)
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	var info BackupInfo
	if err := src.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&info.SchemaVersion); err != nil {
		return BackupInfo{}, fmt.Errorf("%s is not an activator database (reading its schema version: %w)", path, err)
	}
	if _, err := src.ExecContext(ctx, `VACUUM INTO $1`, dest); err != nil {
		return BackupInfo{}, fmt.Errorf("copying the database: %w", err)
	}
	copyDB, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("opening the backup to check it: %w", err)
	}
	defer copyDB.Close()
	var check string
	if err := copyDB.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil {
		return BackupInfo{}, fmt.Errorf("checking the backup: %w", err)
	}
	if check != "ok" {
		return BackupInfo{}, fmt.Errorf("the backup fails SQLite's integrity check: %s", check)
	}
	st, err := os.Stat(dest)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("checking the backup: %w", err)
	}
	info.Bytes = st.Size()
	return info, nil
}
