package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestAccountInputSendsOnlyChangedFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{nil, `{}`, ""},
		{[]string{"--email", "ada@example.com"}, `{"email":"ada@example.com"}`, ""},
		// An empty value given on purpose is sent: it clears the field.
		{[]string{"--profile", ""}, `{"profile":""}`, ""},
		{[]string{"--group", "sales", "--name", "Ada Lovelace", "--mobile", "+393331234567", "--security-model", "end-to-site",
			"--virtual-number", "4711", "--language", "it", "--description", "field", "--email", "a@b.c", "--profile", "p"},
			`{"group":"sales","name":"Ada Lovelace","email":"a@b.c","mobile":"+393331234567","security_model":"end-to-site",
			  "profile":"p","virtual_number":"4711","language":"it","description":"field"}`, ""},
		{[]string{"--security-model", "end-to-moon"}, "", `--security-model "end-to-moon": want one of end-to-end, end-to-site`},
		{[]string{"--language", "xx"}, "", `--language "xx": want one of en, it, de, fr, es`},
	}
	for _, tt := range tests {
		var f accountFlags
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		f.register(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		in, err := f.input(fs)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("input(%q) error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("input(%q): %v", tt.args, err)
		}
		if got := asJSON(t, in); !sameJSON(t, got, tt.want) {
			t.Errorf("input(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestGroupInputSendsOnlyChangedFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, `{}`},
		{[]string{"--it-email", "it@example.com"}, `{"it_email":"it@example.com"}`},
		{[]string{"--name", "sales-eu", "--profile", ""}, `{"name":"sales-eu","profile":""}`},
	}
	for _, tt := range tests {
		var f groupFlags
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		f.register(fs, true)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		if got := asJSON(t, f.input(fs)); !sameJSON(t, got, tt.want) {
			t.Errorf("input(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestProfileEditInput(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"--name", "field"}, `{"name":"field"}`, ""},
		{[]string{"--set", "pin.forced=true"}, `{"settings":{"pin":{"forced":true}}}`, ""},
		{[]string{"--name", "x", "--set", "codecs=opus"}, `{"name":"x","settings":{"codecs":["opus"]}}`, ""},
		{nil, "", "nothing to change"},
		{[]string{"--set", "nope=1"}, "", `unknown setting "nope"`},
	}
	for _, tt := range tests {
		var f profileFlags
		cmd := &cobra.Command{Use: "edit"}
		f.register(cmd.Flags(), true)
		if err := cmd.Flags().Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		in, err := f.editInput(cmd)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("editInput(%q) error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("editInput(%q): %v", tt.args, err)
		}
		if got := asJSON(t, in); !sameJSON(t, got, tt.want) {
			t.Errorf("editInput(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestSendInput(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"--channel", "sms"}, `{"channel":"sms"}`, ""},
		{[]string{"--channel", "email", "--kind", "installation"}, `{"channel":"email","kind":"installation"}`, ""},
		{[]string{"--channel", "fax"}, "", `--channel "fax": want email or sms`},
		{[]string{"--channel", "sms", "--kind", "both"}, "", `--kind "both": want activation or installation`},
	}
	for _, tt := range tests {
		var channel, kind string
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		fs.StringVar(&channel, "channel", "", "")
		fs.StringVar(&kind, "kind", "", "")
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		in, err := sendInput(fs, channel, kind)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("sendInput(%q) error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := asJSON(t, in); !sameJSON(t, got, tt.want) {
			t.Errorf("sendInput(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestAccountFilterQuery(t *testing.T) {
	f := accountFilter{Group: "sales", Status: "invited", Query: "ada lovelace", Limit: 5, HasLimit: true}
	if got, want := f.values().Encode(), "group=sales&limit=5&q=ada+lovelace&status=invited"; got != want {
		t.Errorf("query = %q, want %q", got, want)
	}
	if got := (accountFilter{Limit: 0, Offset: 0}).values().Encode(); got != "" {
		t.Errorf("empty filter query = %q, want nothing", got)
	}
	if got, want := (accountFilter{HasOffset: true}).values().Encode(), "offset=0"; got != want {
		t.Errorf("offset query = %q, want %q", got, want)
	}
}
