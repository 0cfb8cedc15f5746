package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/activator-voip/activator/internal/model"
)

// rawCall sends a request with a body that is not JSON (or reads an answer
// that is not JSON) and returns the answer's bytes.
func (c *apiClient) rawCall(ctx context.Context, method, path string, query url.Values, contentType string, body io.Reader, w io.Writer) error {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + apiPrefix + path
	u.RawPath = ""
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("building request %s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s", c.redact(fmt.Sprintf("calling %s %s: %v", method, u.Redacted(), err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return c.errorFrom(resp.StatusCode, raw)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// isTerminal reports whether r is a terminal, where a person can answer.
// A character device is not enough: /dev/null is one, and cron, systemd
// and CI give it as standard input.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows how far a long job got on w: a bar redrawn in place,
// "label [#####.....] n/total", when w is a terminal; else a plain line
// "label n/total" when it moved on, at most every few seconds, for logs.
type progress struct {
	w        io.Writer
	label    string
	terminal bool
	drawn    bool
	last     time.Time
	lastN    int
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, terminal: isTerminal(w), lastN: -1}
}

func (p *progress) show(n, total int) {
	if !p.terminal {
		if n == p.lastN || n != total && time.Since(p.last) < 2*time.Second {
			return
		}
		p.last, p.lastN = time.Now(), n
		fmt.Fprintf(p.w, "%s %d/%d\n", p.label, n, total)
		return
	}
	const width = 30
	filled := 0
	if total > 0 {
		filled = min(n, total) * width / total
	}
	p.drawn = true
	fmt.Fprintf(p.w, "\r%-9s [%s%s] %d/%d", p.label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), n, total)
}

// end finishes the bar's line.
func (p *progress) end() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// followImport polls an import while it is in state, calling show with
// each status, and returns the first status in another state. A server
// that answers 503 or 507 (its database is away) or cannot be reached for
// a moment is waited for: the job goes on without this command.
func followImport(ctx context.Context, c *apiClient, id string, state model.ImportState, show func(model.ImportStatus)) (model.ImportStatus, error) {
	var st model.ImportStatus
	var waiting time.Time
	for {
		_, err := c.call(ctx, "GET", "/imports/"+id, nil, nil, &st)
		var ae *apiError
		switch {
		case err == nil:
			waiting = time.Time{}
			show(st)
			if st.State != state {
				return st, nil
			}
		case ctx.Err() != nil:
			return st, ctx.Err()
		case errors.As(err, &ae) && ae.Status != http.StatusServiceUnavailable && ae.Status != http.StatusInsufficientStorage:
			return st, err
		default:
			if waiting.IsZero() {
				waiting = time.Now()
			} else if time.Since(waiting) > 10*time.Minute {
				return st, fmt.Errorf("import %s: the server did not answer for 10 minutes (it goes on with the import by itself: GET /api/v1/imports/%s shows how far): %w", id, id, err)
			}
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func newImportCmd(a *globals) *cobra.Command {
	var (
		group, profile, send string
		dryRun, yes          bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import accounts from a CSV file, after a preview that names every bad cell",
		Long: `Import accounts in bulk (the "batch" way). The file has a header line;
its columns are: full name (required), mobile number, e-mail, security model,
description, group, profile, language. Commas or semicolons separate cells.

The server first checks every row and prints what it would do: which rows it
creates, which match existing accounts (skipped), and each bad cell (the
first 1,000). A large file is checked as a job on the server, which this
command follows with a progress bar (in KiB of the file) on standard error. With
--dry-run nothing more happens. Otherwise the valid new rows are imported
(bad rows are left out): a large file as a job on the server, which this
command follows with a progress bar (in rows) on standard error, and which
goes on if the command is stopped. With --send, each imported account is
then sent its activation link, with a progress bar on standard error. When
standard error is not a terminal, the bars are plain progress lines. On a terminal it
asks before importing (--yes does not ask); scripts are never asked.

Matching rule: a row is the same person as an existing account when its
mobile number is the same; else when its e-mail is the same (any case); rows
with neither match on the full name within the same group. Matching rows are
skipped, so importing the same file twice creates nothing the second time.`,
		Example: `  activator import staff.csv --group sales --dry-run
  activator import staff.csv --group sales --send sms`,
		Args: exactArgs("FILE.csv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			content, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("reading %s: %w", args[0], err)
			}
			ctx := cmd.Context()
			q := url.Values{"file_name": {filepath.Base(args[0])}}
			for k, v := range map[string]string{"group": group, "profile": profile, "send": send} {
				if v != "" {
					q.Set(k, v)
				}
			}
			var buf bytes.Buffer
			if err := c.rawCall(ctx, "POST", "/imports", q, "text/csv", bytes.NewReader(content), &buf); err != nil {
				return err
			}
			var prev model.ImportPreview
			if err := json.Unmarshal(buf.Bytes(), &prev); err != nil {
				return fmt.Errorf("decoding the preview: %w", err)
			}
			p := a.printer(cmd)
			errOut := cmd.ErrOrStderr()
			if prev.State == model.ImportChecking {
				// A large file: the server checks it as a job; follow it,
				// then read its preview.
				id := strconv.FormatInt(prev.ID, 10)
				bar := newProgress(errOut, "checked")
				st, err := followImport(ctx, c, id, model.ImportChecking, func(s model.ImportStatus) { bar.show(int(s.Checked>>10), int(s.Size>>10)) })
				bar.end()
				if err != nil {
					return err
				}
				if st.State == model.ImportFailed {
					return fmt.Errorf("import %d: the file was refused: %s", prev.ID, st.LastError)
				}
				buf.Reset()
				raw, err := c.call(ctx, "GET", "/imports/"+id+"/preview", nil, nil, &prev)
				if err != nil {
					return err
				}
				buf.Write(raw)
			}
			if !p.json || dryRun {
				if p.json {
					return p.rawJSON(buf.Bytes())
				}
				p.line("%d rows: %d to create, %d already exist (skipped), %d with errors (left out)", prev.Total, prev.Create, prev.Exists, prev.Invalid)
				if prev.MoreErrors > 0 {
					p.line("the first %d bad cells are listed; %d more are not", len(prev.Errors), prev.MoreErrors)
				}
				if len(prev.Errors) > 0 {
					rows := [][]string{}
					for _, e := range prev.Errors {
						rows = append(rows, []string{strconv.Itoa(e.Row), e.Column, cell(e.Value), e.Message})
					}
					if err := p.table([]string{"line", "column", "value", "problem"}, rows); err != nil {
						return err
					}
				}
			}
			if dryRun {
				if _, err := c.call(ctx, "POST", "/imports/"+strconv.FormatInt(prev.ID, 10)+"/cancel", nil, nil, nil); err != nil {
					return err
				}
				p.line("dry run: nothing imported")
				return nil
			}
			id := strconv.FormatInt(prev.ID, 10)
			if !yes && isTerminal(cmd.InOrStdin()) {
				fmt.Fprintf(errOut, "Import %d account(s)? [y/N] ", prev.Create)
				var answer string
				fmt.Fscanln(cmd.InOrStdin(), &answer)
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					if _, err := c.call(ctx, "POST", "/imports/"+id+"/cancel", nil, nil, nil); err != nil {
						return err
					}
					return errors.New("cancelled: nothing imported")
				}
			}
			var st model.ImportStatus
			if _, err := c.call(ctx, "POST", "/imports/"+id+"/confirm", nil, nil, &st); err != nil {
				return err
			}
			bar := newProgress(errOut, "imported")
			bar.show(st.Done, st.Total)
			if st.State == model.ImportImporting {
				// A large file: the server imports it as a job (202), which
				// goes on without this command; this only follows it.
				if st, err = followImport(ctx, c, id, model.ImportImporting, func(s model.ImportStatus) { bar.show(s.Done, s.Total) }); err != nil {
					bar.end()
					return err
				}
				bar.show(st.Done, st.Total)
			}
			bar.end()
			if st.State == model.ImportFailed {
				return fmt.Errorf("import %d: %s (confirming it again goes on from where it stopped)", st.ID, st.LastError)
			}
			if st.State == model.ImportSending {
				// The server sends by itself, as a job that outlives this
				// command and database outages; this only follows it.
				bar = newProgress(errOut, "sent")
				if st, err = followImport(ctx, c, id, model.ImportSending, func(s model.ImportStatus) { bar.show(s.Sent, s.ToSend) }); err != nil {
					bar.end()
					return err
				}
				bar.show(st.Sent, st.ToSend)
				bar.end()
			}
			if p.json {
				if err := p.value(st); err != nil {
					return err
				}
			} else {
				p.line("import %d: %d created, %d sent", st.ID, st.Created, st.Sent)
			}
			if st.LastError != "" {
				return fmt.Errorf("import %d: not every link was sent; last error: %s", st.ID, st.LastError)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&group, "group", "", "group of rows without one")
	f.StringVar(&profile, "profile", "", "provisioning profile of rows without one")
	f.StringVar(&send, "send", "", "then send each imported account its activation: sms or email")
	f.BoolVar(&dryRun, "dry-run", false, "only check the file and print what would happen")
	f.BoolVarP(&yes, "yes", "y", false, "import without asking, even on a terminal (scripts never get asked)")
	return cmd
}
