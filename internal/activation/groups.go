package activation

import (
	"context"
	"errors"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Groups keeps the groups accounts belong to: each group's IT contact and
// the profile its accounts get unless they have their own.
type Groups struct {
	store *store.Store
}

// NewGroups returns the groups of the organisations in st.
func NewGroups(st *store.Store) *Groups { return &Groups{store: st} }

// List lists the caller's organisation's groups.
func (gs *Groups) List(ctx context.Context, by Caller) ([]model.Group, error) {
	return gs.store.Groups(ctx, by.OrgID)
}

// groupByName finds a group of an organisation by name.
func groupByName(ctx context.Context, r *store.Reader, orgID int64, name string) (*store.GroupRow, error) {
	g, err := r.GroupByName(ctx, orgID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("group_not_found", "no group named %q", name)
	}
	return g, err
}

// Get finds a group by name.
func (gs *Groups) Get(ctx context.Context, name string, by Caller) (*model.Group, error) {
	g, err := groupByName(ctx, &gs.store.Reader, by.OrgID, name)
	if err != nil {
		return nil, err
	}
	return &g.Group, nil
}

// Create makes a group.
func (gs *Groups) Create(ctx context.Context, in model.GroupInput, by Caller) (*model.Group, error) {
	g := &store.GroupRow{}
	err := gs.store.Tx(ctx, func(tx *store.Tx) error {
		if in.Name == nil {
			return invalid("name", "name is required")
		}
		if err := applyGroup(ctx, &tx.Reader, by.OrgID, g, in); err != nil {
			return err
		}
		return mapStore("creating group", "name", tx.CreateGroup(ctx, by.OrgID, g))
	})
	if err != nil {
		return nil, err
	}
	return &g.Group, nil
}

// Update changes the fields given.
func (gs *Groups) Update(ctx context.Context, name string, in model.GroupInput, by Caller) (*model.Group, error) {
	var g *store.GroupRow
	err := gs.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if g, err = groupByName(ctx, &tx.Reader, by.OrgID, name); err != nil {
			return err
		}
		if err := applyGroup(ctx, &tx.Reader, by.OrgID, g, in); err != nil {
			return err
		}
		return mapStore("updating group", "name", tx.UpdateGroup(ctx, g))
	})
	if err != nil {
		return nil, err
	}
	return &g.Group, nil
}

// applyGroup validates the given fields into g, a group of orgID.
func applyGroup(ctx context.Context, r *store.Reader, orgID int64, g *store.GroupRow, in model.GroupInput) error {
	if in.Name != nil {
		if err := validName("name", *in.Name); err != nil {
			return err
		}
		g.Name = *in.Name
	}
	if in.ITEmail != nil {
		if *in.ITEmail != "" {
			if err := validEmail("it_email", *in.ITEmail); err != nil {
				return err
			}
		}
		g.ITEmail = *in.ITEmail
	}
	if in.Profile != nil {
		if *in.Profile == "" {
			g.ProfileID, g.Profile = nil, ""
		} else {
			p, err := r.ProfileByName(ctx, orgID, *in.Profile)
			if errors.Is(err, store.ErrNotFound) {
				return invalid("profile", "no profile named %q", *in.Profile)
			}
			if err != nil {
				return err
			}
			g.ProfileID, g.Profile = &p.ID, p.Name
		}
	}
	return nil
}

// Delete deletes a group that has no accounts.
func (gs *Groups) Delete(ctx context.Context, name string, by Caller) error {
	return gs.store.Tx(ctx, func(tx *store.Tx) error {
		g, err := groupByName(ctx, &tx.Reader, by.OrgID, name)
		if err != nil {
			return err
		}
		err = tx.DeleteGroup(ctx, g.ID)
		if errors.Is(err, store.ErrInUse) {
			return conflict("in_use", "", "group %q still has accounts; move or delete them first", name)
		}
		return mapStore("deleting group", "", err)
	})
}
