package model

import "time"

// Organisation is one of the provider's customers (a company): its own
// operators, groups, profiles, gateways, settings and accounts, walled off
// from every other organisation's. The default organisation (DefaultOrgID)
// is the provider's own.
type Organisation struct {
	ID          int64      `json:"id"`
	Slug        string     `json:"slug"` // the name in URLs, the CLI's --org and the Activator-Org header
	Name        string     `json:"name"` // the display name users see
	Suspended   bool       `json:"suspended"`
	SuspendedAt *time.Time `json:"suspended_at,omitempty"`
	// MaxAccounts and MaxMessagesPerDay are the provider's quotas on it: the
	// most accounts it may have, the most messages it may queue in a day
	// (UTC); 0 is no quota.
	MaxAccounts       int64 `json:"max_accounts"`
	MaxMessagesPerDay int64 `json:"max_messages_per_day"`
	// AllowCallsTo are the slugs of the organisations whose accounts this
	// one's may call and message, as the provider allows; empty: calls
	// stay inside the organisation.
	AllowCallsTo []string  `json:"allow_calls_to"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// OrganisationInput creates or edits an organisation. On create, SIPDomain
// and BaseURL set the new organisation's sip_domain and public_base_url
// settings.
type OrganisationInput struct {
	Name              *string `json:"name,omitempty"`
	Slug              *string `json:"slug,omitempty"`
	SIPDomain         *string `json:"sip_domain,omitempty"`
	BaseURL           *string `json:"base_url,omitempty"`
	MaxAccounts       *int64  `json:"max_accounts,omitempty"`
	MaxMessagesPerDay *int64  `json:"max_messages_per_day,omitempty"`
	// AllowCallsTo replaces the organisations this one's accounts may
	// call (slugs); an empty list allows none. Provider only, like the
	// quotas.
	AllowCallsTo *[]string `json:"allow_calls_to,omitempty"`
}

// OrganisationStats is what a provider admin sees of one organisation:
// its accounts by status, its messages by state and its activations on
// each of the last days.
type OrganisationStats struct {
	Organisation Organisation   `json:"organisation"`
	Accounts     map[string]int `json:"accounts"` // by status: new, invited, opened, installed, activated, disabled
	Messages     map[string]int `json:"messages"` // by state: queued, sending, sent, delivered, failed
	// Activations counts the accounts activated on each day (UTC, oldest
	// first) of the last StatsDays, days without any included.
	Activations []DayCount `json:"activations"`
}

// DayCount is a count on one day (YYYY-MM-DD, UTC).
type DayCount struct {
	Day   string `json:"day"`
	Count int    `json:"count"`
}

// StatsDays is how many days OrganisationStats counts activations over.
const StatsDays = 30
