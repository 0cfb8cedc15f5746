package app

import (
	"fmt"
	"os"
	"path/filepath"
)

// privateDataDir makes the data folder and what it holds readable by
// activator's user only: the folder 0700, every file 0600, whoever created
// them and with whatever umask. The folder holds the database (links,
// sealed secrets), the secret key and the admin token.
func privateDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the data folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("making the data folder private: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading the data folder: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
			return fmt.Errorf("making %s private: %w", e.Name(), err)
		}
	}
	return nil
}
