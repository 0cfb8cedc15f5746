package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/activator-voip/activator/internal/model"
	"github.com/spf13/cobra"
)

// pageFlags are a list command's paging flags: the server pages its
// listings by cursor, and a list command prints one page, or every page.
type pageFlags struct {
	limit  int
	cursor string
	all    bool
}

// add adds --limit, --cursor and --all to cmd.
func (f *pageFlags) add(cmd *cobra.Command, what string) {
	fs := cmd.Flags()
	fs.IntVar(&f.limit, "limit", 0, "at most this many "+what+" a page (default: the server's page size)")
	fs.StringVar(&f.cursor, "cursor", "", "start at this page (the cursor a previous list printed)")
	fs.BoolVar(&f.all, "all", false, "follow the pages to the end and print every "+what[:len(what)-1]+" (for millions, use export)")
}

// set checks the flags and puts them in q.
func (f *pageFlags) set(cmd *cobra.Command, q url.Values) error {
	if cmd.Flags().Changed("limit") {
		if f.limit <= 0 {
			return fmt.Errorf("--limit %d: want a positive number", f.limit)
		}
		q.Set("limit", strconv.Itoa(f.limit))
	}
	if f.cursor != "" {
		q.Set("cursor", f.cursor)
	}
	return nil
}

// listed is a list answer: its items, and its cursors.
type listed[T, I any] struct {
	items   func(*T) *[]I
	cursors func(*T) *model.Cursors
}

// run fetches one page and prints it with show, and, when there is a next
// page, its cursor on standard error; with --all it fetches page after
// page, each from the cursor the one before gave, and prints them all as
// one list (-o json: one answer holding every item).
func (l listed[T, I]) run(a *globals, cmd *cobra.Command, f *pageFlags, path string, q url.Values, show func(*printer, T, json.RawMessage) error) error {
	c, err := a.client(cmd)
	if err != nil {
		return err
	}
	p := a.printer(cmd)
	v, raw, err := getJSON[T](path, q)(cmd.Context(), c)
	if err != nil {
		return err
	}
	if !f.all {
		if err := show(p, v, raw); err != nil {
			return err
		}
		if next := l.cursors(&v).Next; next != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "more: the next page is --cursor %s (or --all for every page)\n", next)
		}
		return nil
	}
	for pages := 1; l.cursors(&v).Next != ""; pages++ {
		q.Set("cursor", l.cursors(&v).Next)
		more, _, err := getJSON[T](path, q)(cmd.Context(), c)
		if err != nil {
			return fmt.Errorf("page %d: %w", pages+1, err)
		}
		*l.items(&v) = append(*l.items(&v), *l.items(&more)...)
		*l.cursors(&v) = model.Cursors{Prev: l.cursors(&v).Prev, Next: l.cursors(&more).Next}
	}
	raw, err = json.Marshal(v)
	if err != nil {
		return fmt.Errorf("printing the list: %w", err)
	}
	return show(p, v, raw)
}
