package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
)

// messageStates lists the delivery states in the order a message moves.
func messageStates() []string {
	return []string{model.MessageQueued, model.MessageSending, model.MessageSent, model.MessageDelivered, model.MessageFailed}
}

func newMessagesCmd(a *globals) *cobra.Command {
	return parentCmd("messages", "Watch the SMS and e-mail delivery queue",
		`Every secure link goes out as an SMS or an e-mail through the delivery
queue. A message is queued, then sending, then sent (and delivered, when the
provider sends delivery receipts) or failed; failed
messages show the last error the gateway gave.`,
		`  activator messages list --state failed
  activator messages list --username 1234567890`,
		newMessagesListCmd(a))
}

// messagePages pages GET /messages, outboxPages GET /outbox.
var (
	messagePages = listed[messageList, model.Message]{
		items:   func(v *messageList) *[]model.Message { return &v.Messages },
		cursors: func(v *messageList) *model.Cursors { return &v.Cursors },
	}
	outboxPages = listed[outboxList, model.OutboxItem]{
		items:   func(v *outboxList) *[]model.OutboxItem { return &v.Outbox },
		cursors: func(v *outboxList) *model.Cursors { return &v.Cursors },
	}
)

func newMessagesListCmd(a *globals) *cobra.Command {
	var (
		state, username string
		pf              pageFlags
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List messages",
		Long: "List messages in the delivery queue, newest first, optionally by state (" + strings.Join(messageStates(), ", ") + ") or account.\n\n" +
			"It prints one page and, when there are more, the cursor of the next page on standard error: give it as --cursor, or --all for every page.",
		Example: `  activator messages list
  activator messages list --state failed
  activator messages list --username 1234567890 -o json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if state != "" && !slices.Contains(messageStates(), state) {
				return fmt.Errorf("--state %q: want one of %s", state, strings.Join(messageStates(), ", "))
			}
			q := url.Values{}
			if state != "" {
				q.Set("state", state)
			}
			if username != "" {
				q.Set("username", username)
			}
			if err := pf.set(cmd, q); err != nil {
				return err
			}
			return messagePages.run(a, cmd, &pf, "/messages", q, printMessageList)
		},
	}
	pf.add(cmd, "messages")
	cmd.Flags().StringVar(&state, "state", "", "only messages in this state ("+strings.Join(messageStates(), ", ")+")")
	cmd.Flags().StringVar(&username, "username", "", "only messages of this account")
	return cmd
}

func printMessageList(p *printer, v messageList, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	if len(v.Messages) == 0 {
		p.line("no messages")
		return nil
	}
	return p.table(messageTable(v.Messages, true))
}

// messageTable returns the header and rows of a message table; the account
// page leaves out the username column.
func messageTable(msgs []model.Message, withUser bool) ([]string, [][]string) {
	header := []string{"ID", "USERNAME", "CHANNEL", "KIND", "RECIPIENT", "STATE", "ATTEMPTS", "CREATED", "SENT", "LAST ERROR"}
	if !withUser {
		header = slices.Delete(header, 1, 2)
	}
	rows := make([][]string, len(msgs))
	for i, m := range msgs {
		rows[i] = []string{
			strconv.FormatInt(m.ID, 10), m.Username, m.Channel, string(m.Kind), m.Recipient, m.State,
			strconv.Itoa(m.Attempts), fmtTime(m.CreatedAt), fmtTimePtr(m.SentAt), m.LastError,
		}
		if !withUser {
			rows[i] = slices.Delete(rows[i], 1, 2)
		}
	}
	return header, rows
}

func newOutboxCmd(a *globals) *cobra.Command {
	return parentCmd("outbox", "Read the messages the outbox gateway kept",
		`The outbox gateway keeps SMS and e-mails in the database instead of sending
them, so the whole flow can be tried without a provider account. "outbox list"
masks the links; "outbox show" prints one message in full, link included.`,
		`  activator outbox list
  activator outbox show 12`,
		newOutboxListCmd(a), newOutboxShowCmd(a))
}

func newOutboxListCmd(a *globals) *cobra.Command {
	var pf pageFlags
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List kept messages",
		Long: `List the messages the outbox gateway kept, newest first; links are masked.
It prints one page and, when there are more, the cursor of the next page on
standard error: give it as --cursor, or --all for every page.`,
		Example: `  activator outbox list
  activator outbox list --limit 10 --all`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if err := pf.set(cmd, q); err != nil {
				return err
			}
			return outboxPages.run(a, cmd, &pf, "/outbox", q, printOutboxList)
		},
	}
	pf.add(cmd, "messages")
	return cmd
}

func newOutboxShowCmd(a *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one kept message in full",
		Long: `Show one message the outbox gateway kept, with its full text. The secure
link in it is whole for an admin while the link can still be used, masked
otherwise. Whoever holds that link can activate the account: share it only
with the account's user.`,
		Example: `  activator outbox show 12`,
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("outbox ID %q: want a positive number, as outbox list shows", args[0])
			}
			return callAndPrint(a, cmd, getJSON[model.OutboxItem]("/outbox/"+strconv.FormatInt(id, 10), nil), printOutboxItem)
		},
	}
}

// printOutboxList prints the kept messages as a table, by subject or first line.
func printOutboxList(p *printer, v outboxList, raw json.RawMessage) error {
	return printList(p, raw, v.Outbox, "the outbox is empty", []string{"ID", "MESSAGE", "CHANNEL", "RECIPIENT", "CREATED", "SUBJECT OR TEXT"},
		func(it model.OutboxItem) []string {
			summary := it.Subject
			if summary == "" {
				summary = firstLine(it.Body)
			}
			return []string{strconv.FormatInt(it.ID, 10), strconv.FormatInt(it.MessageID, 10), it.Channel, it.Recipient, fmtTime(it.CreatedAt), summary}
		})
}

// printOutboxItem prints one kept message with its full text.
func printOutboxItem(p *printer, it model.OutboxItem, raw json.RawMessage) error {
	if p.json {
		return p.rawJSON(raw)
	}
	lines := []kv{
		{"id", strconv.FormatInt(it.ID, 10)},
		{"message", strconv.FormatInt(it.MessageID, 10)},
		{"channel", it.Channel},
		{"recipient", it.Recipient},
		{"created", fmtTime(it.CreatedAt)},
	}
	if it.Subject != "" {
		lines = append(lines, kv{"subject", it.Subject})
	}
	if err := p.block(lines); err != nil {
		return err
	}
	p.line("")
	p.line("%s", strings.TrimRight(text(it.Body), "\n"))
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
