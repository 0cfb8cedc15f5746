package console

import (
	"fmt"
	"net/http"
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

func (c *Console) messages(w http.ResponseWriter, r *http.Request, p *Page) error {
	ms, err := c.dom.Messages.List(r.Context(), r.URL.Query().Get("state"), "", 200, *p.Caller)
	if err != nil {
		return err
	}
	p.Title, p.Menu, p.Data, p.Form = "Messages", "messages", ms, r.URL.Query()
	c.render(w, http.StatusOK, "messages", p)
	return nil
}

// --- configuration
