package console

import (
	"fmt"
	"net/http"

	"github.com/activator-voip/activator/internal/model"
)

func (c *Console) outbox(w http.ResponseWriter, r *http.Request, p *Page) error {
	items, err := c.dom.Messages.Outbox(r.Context(), 200, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = "Outbox", "outbox", items
	c.render(w, http.StatusOK, "outbox", p)
	return nil
}

func (c *Console) outboxItem(w http.ResponseWriter, r *http.Request, p *Page) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	it, err := c.dom.Messages.OutboxItem(r.Context(), id, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data = fmt.Sprintf("Outbox message %d", id), "outbox", it
	c.render(w, http.StatusOK, "outbox_item", p)
	return nil
}

// pagedData is a listing page of the console with the links to the pages
// beside it, which carry their cursors.
type pagedData[T any] struct {
	Items      []T
	Prev, Next string
}

// pageLinks makes the links of a listing's neighbouring pages: the
// request's URL with the cursor replaced.
func pageLinks(r *http.Request, cur model.Cursors) (prev, next string) {
	link := func(cursor string) string {
		if cursor == "" {
			return ""
		}
		v := r.URL.Query()
		v.Set("cursor", cursor)
		return r.URL.Path + "?" + v.Encode()
	}
	return link(cur.Prev), link(cur.Next)
}

func (c *Console) messages(w http.ResponseWriter, r *http.Request, p *Page) error {
	q := r.URL.Query()
	res, err := c.dom.Messages.Page(r.Context(), q.Get("state"), "", 200, q.Get("cursor"), *p.Caller)
	if err != nil {
		return err
	}
	d := pagedData[model.Message]{Items: res.Messages}
	d.Prev, d.Next = pageLinks(r, res.Cursors)
	p.Title, p.Menu, p.Data, p.Form = "Messages", "messages", d, r.URL.Query()
	c.render(w, http.StatusOK, "messages", p)
	return nil
}

// --- configuration
