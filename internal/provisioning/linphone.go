package provisioning

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/model"
)

// LinphoneContentType is the media type of Linphone's remote provisioning answer.
const LinphoneContentType = "application/xml"

// LinphoneCredentials are the digest hashes Linphone registers with; the
// password itself never goes into the file.
type LinphoneCredentials struct {
	HA1MD5    string
	HA1SHA256 string
}

type lpEntry struct {
	Name      string `xml:"name,attr"`
	Overwrite string `xml:"overwrite,attr"`
	Value     string `xml:",chardata"`
}

type lpSection struct {
	Name    string    `xml:"name,attr"`
	Entries []lpEntry `xml:"entry"`
}

type lpConfig struct {
	XMLName  xml.Name    `xml:"http://www.linphone.org/xsds/lpconfig.xsd config"`
	Sections []lpSection `xml:"section"`
}

// LinphoneXML renders a device configuration as Linphone's remote
// provisioning file (lpconfig). Every entry is written with
// overwrite="true" so a re-provisioning replaces the account instead of
// adding one, and the credentials are in every file because Linphone drops
// its stored auth_info sections before applying one. Both HA1 hashes go out,
// one auth_info each, so Linphone answers whichever algorithm the server
// challenges with. The CA to trust is a file on the device (the rc file's
// [sip] root_ca): Linphone 5.1 takes no certificate data in this file.
func LinphoneXML(cfg model.DeviceConfig, cred LinphoneCredentials) ([]byte, error) {
	if cred.HA1MD5 == "" && cred.HA1SHA256 == "" {
		return nil, errors.New("linphone provisioning: the account has no digest hashes (not activated)")
	}
	if len(cfg.SIP.Servers) == 0 {
		return nil, errors.New("linphone provisioning: no SIP server to register with")
	}
	srv := cfg.SIP.Servers[0] // the security model's own transport comes first
	mode := cfg.Security.SecurityMode
	bool01 := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	enc := mode.MediaEncryption
	if enc == "" {
		enc = "none"
	}
	sec := func(name string, kv ...string) lpSection {
		s := lpSection{Name: name}
		for i := 0; i+1 < len(kv); i += 2 {
			s.Entries = append(s.Entries, lpEntry{Name: kv[i], Overwrite: "true", Value: kv[i+1]})
		}
		return s
	}
	identity := "sip:" + cfg.Account.Username + "@" + cfg.SIP.Domain
	if cfg.Account.DisplayName != "" {
		identity = strconv.Quote(cfg.Account.DisplayName) + " <" + identity + ">"
	}
	proxy := fmt.Sprintf("<sip:%s:%d;transport=%s>", srv.Host, srv.Port, srv.Transport)
	keepAlive := cfg.Profile.KeepAliveSeconds
	c := lpConfig{Sections: []lpSection{
		sec("sip",
			"default_proxy", "0",
			"verify_server_certs", bool01(mode.VerifyServerCertificate),
			"verify_server_cn", bool01(mode.VerifyServerCertificate),
			"media_encryption", enc,
			"media_encryption_mandatory", bool01(mode.MediaEncryptionMandatory),
			"keepalive_period", strconv.Itoa(keepAlive*1000),
		),
		sec("proxy_0",
			"reg_identity", identity,
			"reg_proxy", proxy,
			"reg_route", proxy,
			"realm", cfg.SIP.Realm,
			"reg_expires", "3600",
			"reg_sendregister", "1",
			"publish", "0",
		),
	}}
	n := 0
	for _, a := range []struct{ alg, ha1 string }{{"SHA-256", cred.HA1SHA256}, {"MD5", cred.HA1MD5}} {
		if a.ha1 == "" {
			continue
		}
		c.Sections = append(c.Sections, sec("auth_info_"+strconv.Itoa(n),
			"username", cfg.Account.Username,
			"userid", cfg.Account.Username,
			"ha1", a.ha1,
			"realm", cfg.SIP.Realm,
			"domain", cfg.SIP.Domain,
			"algorithm", a.alg,
		))
		n++
	}
	if len(cfg.Profile.Codecs) > 0 {
		c.Sections = append(c.Sections, sec("activator", "codecs", strings.Join(cfg.Profile.Codecs, ","),
			"virtual_number", cfg.Account.VirtualNumber, "security_model", string(cfg.Security.Model)))
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	e := xml.NewEncoder(&buf)
	e.Indent("", "  ")
	if err := e.Encode(c); err != nil {
		return nil, fmt.Errorf("linphone provisioning: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
