package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokensAreLongPrefixedAndStoredAsHashes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, hash := NewToken(PrefixLink)
		if !WellFormed(tok, PrefixLink) || len(tok) != TokenLen || seen[tok] {
			t.Fatalf("token %q: malformed or repeated", tok)
		}
		seen[tok] = true
		if !bytes.Equal(hash, Hash(tok)) || bytes.Contains(hash, []byte(tok)) {
			t.Fatal("hash must be the SHA-256 of the token")
		}
	}
	tok, _ := NewToken(PrefixDevice)
	for _, bad := range []string{"", "avl_", tok, "avl_" + strings.Repeat("A", 32), "avl_" + strings.Repeat("1", 32), "avl_" + strings.Repeat("a", 33)} {
		if WellFormed(bad, PrefixLink) {
			t.Errorf("%q must not pass as a link token", bad)
		}
	}
	if d := Display(tok); len(d) > 14 || strings.Contains(tok[10:], strings.TrimSuffix(d, "…")[4:]) && len(d) >= len(tok) {
		t.Errorf("display %q shows too much", d)
	}
}

func TestRandomDigits(t *testing.T) {
	counts := map[byte]int{}
	for range 2000 {
		d := RandomDigits(10)
		if len(d) != 10 || d[0] == '0' {
			t.Fatalf("%q: want 10 digits, the first not zero", d)
		}
		for i := 1; i < len(d); i++ {
			if d[i] < '0' || d[i] > '9' {
				t.Fatalf("%q is not numeric", d)
			}
			counts[d[i]]++
		}
	}
	for c := byte('0'); c <= '9'; c++ {
		if counts[c] < 1400 || counts[c] > 2200 { // 1800 expected of each
			t.Errorf("digit %c drawn %d times of 18000: not uniform", c, counts[c])
		}
	}
}

func TestBoxSealsAndRefusesAnotherKey(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	b1, _ := NewBox(k1)
	b2, _ := NewBox(k2)
	sealed := b1.Seal([]byte("sip-password"))
	if bytes.Contains(sealed, []byte("sip-password")) {
		t.Fatal("sealed value shows the plain text")
	}
	if got, err := b1.Open(sealed); err != nil || string(got) != "sip-password" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b2.Open(sealed); err != ErrDecrypt {
		t.Fatalf("another key: want ErrDecrypt, got %v", err)
	}
	if _, err := b1.Open(sealed[:5]); err != ErrDecrypt {
		t.Fatalf("truncated: want ErrDecrypt, got %v", err)
	}
	if _, err := NewBox([]byte("short")); err == nil {
		t.Fatal("a short key must be refused")
	}
}

func TestKeyFileIsCreatedOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	k1, created, err := LoadOrCreateKey(path)
	if err != nil || !created || len(k1) != 32 {
		t.Fatalf("first load: %v created=%v", err, created)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKey(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second load must read the same key: %v created=%v", err, created)
	}
	os.WriteFile(path, []byte("nothex\n"), 0o600)
	if _, _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Fatalf("a damaged key file must be refused clearly, got %v", err)
	}
}

// TestLinksAreFoundAndMaskedInText checks the one definition of a link in
// text: the landing URL of a well-formed link token, found and masked the
// way listings show a token.
func TestLinksAreFoundAndMaskedInText(t *testing.T) {
	tok, _ := NewToken(PrefixLink)
	url := "https://activate.example.com/a/" + tok
	text := "Tap " + url + " to set up your phone.\n"
	if got := FindLink(text); got != url {
		t.Errorf("FindLink: %q, want %q", got, url)
	}
	if got := FindLink("https://activate.example.com/a/" + PrefixLink + "short"); got != "" {
		t.Errorf("a malformed token is no link: %q", got)
	}
	masked := MaskLinks(text + tok)
	if strings.Contains(masked, tok) || strings.Count(masked, Display(tok)) != 2 {
		t.Errorf("MaskLinks: %q", masked)
	}
	for _, p := range []string{PrefixLink, PrefixDevice, PrefixAPIToken, PrefixSession, PrefixSetPassword, PrefixReceiptKey} {
		tok, _ := NewToken(p)
		if len(p) != 4 || len(tok) != TokenLen || !WellFormed(tok, p) || strings.Trim(tok[len(p):], TokenAlphabet) != "" {
			t.Errorf("prefix %q: token %q", p, tok)
		}
	}
}

// TestEveryPrefixIsDocumented keeps docs/architecture.md's list of token
// prefixes and its glossary whole.
func TestEveryPrefixIsDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, p := range []string{PrefixLink, PrefixDevice, PrefixAPIToken, PrefixSession, PrefixSetPassword, PrefixReceiptKey} {
		if strings.Count(doc, "| `"+p+"` |") < 2 {
			t.Errorf("docs/architecture.md: the prefix %s is not both in the tokens' table and in the glossary", p)
		}
	}
}
