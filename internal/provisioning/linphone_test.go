package provisioning

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/model"
)

func TestLinphoneXML(t *testing.T) {
	cfg := NativeConfig(ConfigInput{
		BaseURL: "https://act.example.com", Username: "1234567890", Password: "SECRETPASSWORD", DisplayName: `Ada "A" <L>`,
		VirtualNumber: "100001", SecurityModel: model.EndToSite, SIPDomain: "example.com", SIPHost: "sip.example.com",
		SIPPorts: map[string]int{"udp": 5060, "tcp": 5060, "tls": 5061}, Transports: []string{"udp", "tcp", "tls"},
		Profile: model.DefaultProfileSettings(), IssuedAt: time.Now(),
	})
	out, err := LinphoneXML(cfg, LinphoneCredentials{HA1MD5: "md5ha1", HA1SHA256: "sha256ha1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "SECRETPASSWORD") {
		t.Fatal("the password is in the Linphone file; only its HA1 may be")
	}
	var doc struct {
		XMLName  xml.Name
		Sections []struct {
			Name    string `xml:"name,attr"`
			Entries []struct {
				Name      string `xml:"name,attr"`
				Overwrite string `xml:"overwrite,attr"`
				Value     string `xml:",chardata"`
			} `xml:"entry"`
		} `xml:"section"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, out)
	}
	if doc.XMLName.Space != "http://www.linphone.org/xsds/lpconfig.xsd" || doc.XMLName.Local != "config" {
		t.Fatalf("root element %v", doc.XMLName)
	}
	got := map[string]string{}
	for _, s := range doc.Sections {
		for _, e := range s.Entries {
			if e.Overwrite != "true" {
				t.Errorf("%s.%s: overwrite=%q, want true on every managed entry", s.Name, e.Name, e.Overwrite)
			}
			got[s.Name+"."+e.Name] = e.Value
		}
	}
	want := map[string]string{
		"proxy_0.reg_proxy":        "<sip:sip.example.com:5061;transport=tls>", // the end-to-site model asks for TLS
		"proxy_0.reg_identity":     `"Ada \"A\" <L>" <sip:1234567890@example.com>`,
		"sip.verify_server_certs":  "1",
		"sip.media_encryption":     "srtp",
		"auth_info_0.ha1":          "sha256ha1",
		"auth_info_0.algorithm":    "SHA-256",
		"auth_info_1.ha1":          "md5ha1",
		"auth_info_1.algorithm":    "MD5",
		"auth_info_1.realm":        "example.com",
		"auth_info_1.username":     "1234567890",
		"proxy_0.reg_sendregister": "1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := LinphoneXML(cfg, LinphoneCredentials{}); err == nil {
		t.Error("an account without hashes (not activated) must not render")
	}
}
