package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// instanceFile holds, in the data folder, the random half of this
// instance's name in the delivery queue.
const instanceFile = "instance.id"

// instanceID names this instance in the delivery queue's claims. It stays
// the same across restarts, so a restarted instance takes back at once the
// messages it was sending when it stopped or died, and differs from every
// other running instance sharing the database, whose messages it must
// leave to their lease. It is the configured name, else the host name and
// a random id created in the data folder on first start: a copy of the
// data folder on another machine is another instance.
func instanceID(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, instanceFile)
	id, err := readInstanceFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		id, err = createInstanceFile(path)
	}
	if err != nil {
		return "", err
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + "/" + id, nil
}

func readInstanceFile(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(raw))
	if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n") {
		return "", fmt.Errorf("%s: want one word naming this instance, found %q (delete the file to make a new one)", path, raw)
	}
	return id, nil
}

// createInstanceFile writes a new random id; when another process starting
// on the same folder wrote one first, that one is kept.
func createInstanceFile(path string) (string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readInstanceFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("creating %s: %w", path, err)
	}
	_, err = f.WriteString(id + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return id, nil
}
