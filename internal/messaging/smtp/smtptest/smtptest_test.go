package smtptest_test

import (
	"bytes"
	"fmt"
	"net/mail"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/activator-voip/activator/internal/messaging/smtp"
	"github.com/activator-voip/activator/internal/messaging/smtp/smtptest"
	"github.com/activator-voip/activator/internal/model"
)

// recorder keeps what Check reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

const link = "http://127.0.0.1:8080/a/avl_abcdefghijklmnopqrstuvwxyz234567"

// The checker itself: a well-formed message passes, and each way of
// breaking one is reported, by the Go parser and, where Python's sees it
// as a defect, by Python's too.
func TestCheckCatchesEachDefect(t *testing.T) {
	m := &model.Message{ID: 1, Subject: "Attivazione – ACME", Body: "Ciao\n" + link + "\n", HTML: `<p><a href="` + link + `">apri</a></p>` + smtp.QRSlot}
	good, err := smtp.Compose(&mail.Address{Address: "it@example.com"}, &mail.Address{Address: "bob@example.org"}, m, "<x@example.com>", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := smtptest.Expect{From: "it@example.com", To: "bob@example.org", Subject: m.Subject, Text: m.Body, HTML: []string{link}, QR: true}
	if r := (&recorder{TB: t}); smtptest.Check(r, good, e) == nil || len(r.errs) > 0 {
		t.Fatalf("a well-formed message was refused:\n%s", strings.Join(r.errs, "\n"))
	}
	boundaries := regexp.MustCompile(`boundary=([0-9a-f]+)`).FindAllSubmatch(good, -1)
	if len(boundaries) != 2 {
		t.Fatalf("want two boundaries in\n%s", good)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		goes []string // substrings of the Go parser's reports
		py   string   // of Python's, when it sees a defect there
	}{
		{"outer close delimiter", bytes.Replace(good, []byte("--"+string(boundaries[0][1])+"--"), nil, 1),
			[]string{"no close delimiter"}, "CloseBoundaryNotFoundDefect"},
		{"inner close delimiter", bytes.Replace(good, []byte("--"+string(boundaries[1][1])+"--"), nil, 1),
			[]string{"message part 2: no close delimiter"}, "1.2: CloseBoundaryNotFoundDefect"},
		{"line over 998", bytes.Replace(good, []byte("Ciao"), bytes.Repeat([]byte("x"), 1000), 1),
			[]string{"1000 octets, more than RFC 5322's 998"}, "python email (policy.default): line"},
		{"8-bit subject", regexp.MustCompile(`Subject: .*\r\n`).ReplaceAll(good, []byte("Subject: Attivazione – ACME\r\n")),
			[]string{"octet 0xe2 in a 7-bit message", "no encoded-word"}, ""},
		{"no Date", regexp.MustCompile(`Date: .*\r\n`).ReplaceAll(good, nil),
			[]string{"0 Date fields"}, "python email: 0 Date fields"},
		{"bad base64", bytes.Replace(good, []byte("iVBOR"), []byte("i*BOR"), 1),
			[]string{"base64: illegal base64 data"}, "Base64"},
		{"bare LF", bytes.Replace(good, []byte("Ciao\r\n"), []byte("Ciao\n"), 1),
			[]string{"a bare CR or LF"}, ""},
		{"bad quoted-printable", bytes.Replace(good, []byte("Ciao"), []byte("Ci=ZZao"), 1),
			[]string{"a bad escape at column 3"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			smtptest.Check(r, tc.raw, e)
			all := strings.Join(r.errs, "\n")
			want := tc.goes
			if _, err := exec.LookPath("python3"); err == nil && tc.py != "" {
				want = append(want, tc.py)
			}
			for _, w := range want {
				if !strings.Contains(all, w) {
					t.Errorf("want a report with %q, got:\n%s", w, all)
				}
			}
		})
	}
}
