package activation

import (
	"context"
	"errors"

	"github.com/activator-voip/activator/internal/model"
	"github.com/activator-voip/activator/internal/store"
)

// Groups lists the groups.
func (s *Service) Groups(ctx context.Context) ([]model.Group, error) {
	return s.store.Groups(ctx, s.org)
}

// Group finds a group by name.
func (s *Service) Group(ctx context.Context, name string) (*model.Group, error) {
	g, err := s.store.GroupByName(ctx, s.org, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("group_not_found", "no group named %q", name)
	}
	if err != nil {
		return nil, err
	}
	return &g.Group, nil
}

// CreateGroup makes a group.
func (s *Service) CreateGroup(ctx context.Context, in model.GroupInput) (*model.Group, error) {
	g := &store.GroupRow{}
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		if in.Name == nil {
			return invalid("name", "name is required")
		}
		if err := s.applyGroup(ctx, &tx.Reader, g, in); err != nil {
			return err
		}
		return mapStore("creating group", "name", tx.CreateGroup(ctx, s.org, g))
	})
	if err != nil {
		return nil, err
	}
	return &g.Group, nil
}

// UpdateGroup changes the fields given.
func (s *Service) UpdateGroup(ctx context.Context, name string, in model.GroupInput) (*model.Group, error) {
	var g *store.GroupRow
	err := s.store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		g, err = tx.GroupByName(ctx, s.org, name)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("group_not_found", "no group named %q", name)
		}
		if err != nil {
			return err
		}
		if err := s.applyGroup(ctx, &tx.Reader, g, in); err != nil {
			return err
		}
		return mapStore("updating group", "name", tx.UpdateGroup(ctx, g))
	})
	if err != nil {
		return nil, err
	}
	return &g.Group, nil
}

func (s *Service) applyGroup(ctx context.Context, r *store.Reader, g *store.GroupRow, in model.GroupInput) error {
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
			p, err := r.ProfileByName(ctx, s.org, *in.Profile)
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

// DeleteGroup deletes a group that has no accounts.
func (s *Service) DeleteGroup(ctx context.Context, name string) error {
	return s.store.Tx(ctx, func(tx *store.Tx) error {
		g, err := tx.GroupByName(ctx, s.org, name)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("group_not_found", "no group named %q", name)
		}
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
