package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// timeLayout is how times are shown in text output, in the zone the server gave.
const timeLayout = "2006-01-02 15:04:05Z07:00"

// printer writes command results as text or as the API's JSON.
type printer struct {
	w    io.Writer
	json bool
}

// rawJSON prints the API's answer indented. It is how every command prints
// in -o json mode, so scripts see exactly the server's fields.
func (p *printer) rawJSON(raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return fmt.Errorf("printing the answer as JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := p.w.Write(buf.Bytes())
	return err
}

// value prints v (not an API answer) as indented JSON.
func (p *printer) value(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("printing JSON: %w", err)
	}
	_, err = fmt.Fprintf(p.w, "%s\n", b)
	return err
}

// line prints one line of text.
func (p *printer) line(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", args...)
}

// table prints rows under an upper-case header, aligned.
func (p *printer) table(header []string, rows [][]string) error {
	return writeTable(p.w, "", header, rows)
}

// printList prints a list answer: -o json as the server sent it, text as a
// table with one row per item, or as the line none when there are no items
// (an empty none prints the header alone).
func printList[T any](p *printer, raw json.RawMessage, items []T, none string, header []string, row func(T) []string) error {
	if p.json {
		return p.rawJSON(raw)
	}
	if len(items) == 0 && none != "" {
		p.line("%s", none)
		return nil
	}
	rows := make([][]string, len(items))
	for i, it := range items {
		rows[i] = row(it)
	}
	return p.table(header, rows)
}

// writeTable prints an aligned table, each line starting with indent.
func writeTable(w io.Writer, indent string, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, indent+strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = cell(c)
		}
		fmt.Fprintln(tw, indent+strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("printing table: %w", err)
	}
	return nil
}

// kv is one line of a key: value block.
type kv struct{ k, v string }

// block prints key: value lines with the values aligned.
func (p *printer) block(lines []kv) error {
	return writeBlock(p.w, "", lines)
}

func writeBlock(w io.Writer, indent string, lines []kv) error {
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	for _, l := range lines {
		fmt.Fprintf(tw, "%s%s:\t%s\n", indent, l.k, cell(l.v))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("printing: %w", err)
	}
	return nil
}

// cell makes a server-given string safe for one table cell: no tabs, no line
// breaks, no terminal control sequences.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// text makes a multi-line server-given text safe to print: line breaks stay,
// other control characters go.
func text(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r == '\r' {
			return -1
		}
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(timeLayout)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// flattenJSON turns a JSON object into dotted key: value lines, in the order
// the keys appear, with lists of scalars joined by commas: the same paths and
// forms `profile edit --set` takes.
func flattenJSON(raw []byte, prefix string) ([]kv, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []kv
	if err := flattenValue(dec, prefix, &out); err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	return out, nil
}

func flattenValue(dec *json.Decoder, path string, out *[]kv) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := 0
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				if err := flattenValue(dec, joinPath(path, key), out); err != nil {
					return err
				}
				n++
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			if n == 0 {
				*out = append(*out, kv{path, "{}"})
			}
		case '[':
			var items []string
			scalar := true
			var raws []json.RawMessage
			for dec.More() {
				var r json.RawMessage
				if err := dec.Decode(&r); err != nil {
					return err
				}
				raws = append(raws, r)
				var s any
				if err := json.Unmarshal(r, &s); err != nil {
					return err
				}
				switch v := s.(type) {
				case string:
					items = append(items, v)
				case map[string]any, []any:
					scalar = false
				default:
					items = append(items, string(r))
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			if !scalar {
				b, _ := json.Marshal(raws)
				*out = append(*out, kv{path, string(b)})
			} else if len(items) == 0 {
				*out = append(*out, kv{path, "[]"})
			} else {
				*out = append(*out, kv{path, strings.Join(items, ",")})
			}
		}
	case string:
		*out = append(*out, kv{path, t})
	case nil:
		*out = append(*out, kv{path, "null"})
	default:
		*out = append(*out, kv{path, fmt.Sprint(t)})
	}
	return nil
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// sortedDetail prints an event's detail map as sorted key=value pairs.
func sortedDetail(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}
