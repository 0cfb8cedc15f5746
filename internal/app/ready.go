package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Listening is where a server is bound: what the ready file holds. With
// port 0 in an address, it is the port the system chose.
type Listening struct {
	URL    string `json:"url"`               // the HTTP(S) server, as links are built until public_base_url is set
	HTTP   string `json:"http"`              // its host:port
	SIPUDP string `json:"sip_udp,omitempty"` // the embedded registrar's listeners; absent when off
	SIPTCP string `json:"sip_tcp,omitempty"`
	SIPTLS string `json:"sip_tls,omitempty"`
	// Metrics is the operations listener's host:port (/metrics); absent when off.
	Metrics string `json:"metrics,omitempty"`
}

// Listening reports the bound addresses.
func (a *App) Listening() Listening {
	l := Listening{URL: a.URL, HTTP: a.listener.Addr().String()}
	if a.opsLn != nil {
		l.Metrics = a.opsLn.Addr().String()
	}
	if a.SIP != nil {
		addrs := a.SIP.Addrs()
		l.SIPUDP, l.SIPTCP, l.SIPTLS = addrs["udp"], addrs["tcp"], addrs["tls"]
	}
	return l
}

// writeReadyFile writes l to path in one rename, so a reader polling for
// the file never sees half of it.
func writeReadyFile(path string, l Listening) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("writing the ready file: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing the ready file: %w", err)
	}
	return nil
}
