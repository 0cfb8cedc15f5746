package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/activator-voip/activator/internal/model"
)

type templateList struct {
	Templates    []model.MessageTemplate     `json:"templates"`
	Placeholders []model.TemplatePlaceholder `json:"placeholders"`
}

// placeholdersHelp lists the placeholders a template may write.
func placeholdersHelp() string {
	var b strings.Builder
	for _, p := range model.TemplatePlaceholders {
		fmt.Fprintf(&b, "  {{.%s}}\n      %s\n", p.Name, p.Help)
	}
	return b.String()
}

func newTemplateCmd(a *globals) *cobra.Command {
	return parentCmd("template", "Show and change the texts of the messages",
		`Each organisation may write its own text of the SMS and e-mail messages
that carry its links: per channel (sms, email) and link kind (activation,
installation), for every language or for one. A message takes its
language's own text, else the text for every language, else the built-in
one. Texts are plain text with placeholders:

`+placeholdersHelp(),
		`  activator template show
  activator template set sms activation --text '{{.Company}}: set up your phone: {{.Link}} (until {{.Expiry}})'
  activator template reset sms activation`,
		newTemplateShowCmd(a), newTemplateSetCmd(a), newTemplateResetCmd(a))
}

// templateKey is the key of the template of channel and kind in lang.
func templateKey(channel, kind, lang string) (string, error) {
	if channel != model.ChannelSMS && channel != model.ChannelEmail {
		return "", fmt.Errorf("unknown channel %q: want sms or email", channel)
	}
	if !model.LinkKind(kind).Valid() {
		return "", fmt.Errorf("unknown link kind %q: want activation or installation", kind)
	}
	key := channel + "." + kind
	if lang != "" {
		if !model.ValidLanguage(lang) {
			return "", fmt.Errorf("unknown language %q: want one of %s", lang, strings.Join(model.Languages, ", "))
		}
		key += "." + lang
	}
	return key, nil
}

func templateArgs(cmd *cobra.Command, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("%s needs CHANNEL KIND, like sms activation; got %d argument(s) (see %q)", cmd.CommandPath(), len(args), cmd.CommandPath()+" --help")
	}
	return nil
}

func newTemplateShowCmd(a *globals) *cobra.Command {
	var lang string
	cmd := &cobra.Command{
		Use:   "show [CHANNEL KIND]",
		Short: "Show the message templates",
		Long: `Show every message template: whether the organisation wrote its own text
and how many parts the SMS takes; or one template's subject and text.`,
		Example: `  activator template show
  activator template show email installation --language de
  activator template show -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 2 {
				return templateArgs(cmd, args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				key, err := templateKey(args[0], args[1], lang)
				if err != nil {
					return err
				}
				return callAndPrint(a, cmd, getJSON[model.MessageTemplate]("/templates"+seg(key), nil), printTemplate)
			}
			return callAndPrint(a, cmd, getJSON[templateList]("/templates", nil), func(p *printer, v templateList, raw json.RawMessage) error {
				return printList(p, raw, v.Templates, "", []string{"KEY", "CUSTOM", "SEGMENTS", "TEXT"},
					func(t model.MessageTemplate) []string {
						custom := "no"
						if t.CustomText || t.CustomSubject {
							custom = "yes"
						}
						return []string{t.Key, custom, segmentsText(t.Segments), shorten(t.Text, 60)}
					})
			})
		},
	}
	cmd.Flags().StringVar(&lang, "language", "", "one language's template ("+strings.Join(model.Languages, ", ")+"); empty: every language's")
	return cmd
}

func shorten(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// printTemplate prints one template: its facts, then its text as written.
func printTemplate(p *printer, t model.MessageTemplate, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	lang := t.Language
	if lang == "" {
		lang = "every language"
	}
	lines := []kv{{"key", t.Key}, {"language", lang}, {"custom text", customOrBuiltIn(t.CustomText)}}
	if t.Channel == model.ChannelEmail {
		lines = append(lines, kv{"custom subject", customOrBuiltIn(t.CustomSubject)}, kv{"subject", t.Subject})
	} else {
		lines = append(lines, kv{"segments", fmt.Sprintf("%d (%s, %d characters with a sample name and link)", t.Segments, t.Encoding, t.Chars)})
	}
	if err := p.block(lines); err != nil {
		return err
	}
	p.line("\n%s", text(t.Text))
	return nil
}

// customOrBuiltIn says whether a text is the organisation's.
func customOrBuiltIn(custom bool) string {
	if custom {
		return "yes"
	}
	return "no (built-in)"
}

func newTemplateSetCmd(a *globals) *cobra.Command {
	var lang, subject, body, file string
	cmd := &cobra.Command{
		Use:   "set CHANNEL KIND",
		Short: "Write the organisation's own text of a message",
		Long: `Write the organisation's own text of the messages of CHANNEL (sms, email)
carrying links of KIND (activation, installation). The server checks it
first: it must parse, write only these placeholders, write {{.Link}} (a
subject never), and an SMS must take at most 6 parts. Only the values
given change; --text '' or --subject '' restores that built-in text.

Placeholders:
` + placeholdersHelp(),
		Example: `  activator template set sms activation --text '{{.Company}}: hello {{.Name}}, set up your phone: {{.Link}}'
  activator template set email installation --language de --subject '{{.Company}}: Ihre App' --text-file body-de.txt`,
		Args: templateArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := templateKey(args[0], args[1], lang)
			if err != nil {
				return err
			}
			var in model.MessageTemplateInput
			if cmd.Flags().Changed("subject") {
				in.Subject = &subject
			}
			switch {
			case cmd.Flags().Changed("text") && file != "":
				return fmt.Errorf("give --text or --text-file, not both")
			case cmd.Flags().Changed("text"):
				in.Text = &body
			case file != "":
				var data []byte
				if file == "-" {
					data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxResponseBytes))
				} else {
					data, err = os.ReadFile(file)
				}
				if err != nil {
					return fmt.Errorf("reading the text: %w", err)
				}
				s := string(data)
				in.Text = &s
			}
			if in.Text == nil && in.Subject == nil {
				return fmt.Errorf("%s needs --text, --text-file or --subject (see %q)", cmd.CommandPath(), cmd.CommandPath()+" --help")
			}
			if in.Subject != nil && args[0] != model.ChannelEmail {
				return fmt.Errorf("only an e-mail has a subject")
			}
			return callAndPrint(a, cmd, writeJSON[model.MessageTemplate](http.MethodPut, "/templates"+seg(key), in), printTemplate)
		},
	}
	f := cmd.Flags()
	f.StringVar(&lang, "language", "", "one language's text ("+strings.Join(model.Languages, ", ")+"); empty: every language without its own")
	f.StringVar(&subject, "subject", "", "the e-mail's subject ('' restores the built-in one)")
	f.StringVar(&body, "text", "", "the SMS's text or the e-mail's body ('' restores the built-in one)")
	f.StringVar(&file, "text-file", "", "read the text from a file (- reads standard input)")
	return cmd
}

func newTemplateResetCmd(a *globals) *cobra.Command {
	var lang string
	cmd := &cobra.Command{
		Use:     "reset CHANNEL KIND",
		Short:   "Restore a message's built-in text",
		Long:    "Restore the built-in subject and text of the messages of CHANNEL and KIND, for every language or for --language.",
		Example: `  activator template reset sms activation --language it`,
		Args:    templateArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := templateKey(args[0], args[1], lang)
			if err != nil {
				return err
			}
			empty := ""
			in := model.MessageTemplateInput{Text: &empty}
			if args[0] == model.ChannelEmail {
				in.Subject = &empty
			}
			return callAndPrint(a, cmd, writeJSON[model.MessageTemplate](http.MethodPut, "/templates"+seg(key), in), printTemplate)
		},
	}
	cmd.Flags().StringVar(&lang, "language", "", "one language's template; empty: every language's")
	return cmd
}
