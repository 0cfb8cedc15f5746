package activation

import "context"

// hostOrgKey carries the organisation whose host a request came to.
type hostOrgKey struct{}

// unknownHostKey marks a request that came to a host no organisation
// names while organisations are routed by host (Settings.RouteHost).
type unknownHostKey struct{}

// AtHostOf says that a request came to the host of organisation orgID's
// public base URL (Settings.OrgOfHost found it): the public pages and the
// device API then answer for that organisation's links and devices only,
// and another's as unknown.
func AtHostOf(ctx context.Context, orgID int64) context.Context {
	return context.WithValue(ctx, hostOrgKey{}, orgID)
}

// AtUnknownHost says that a request came to a host that is no one's
// (HostRoute.Unknown): every organisation's links and devices answer
// there as unknown ones.
func AtUnknownHost(ctx context.Context) context.Context {
	return context.WithValue(ctx, unknownHostKey{}, true)
}

// hostOrg is the organisation whose host ctx's request came to, if any.
func hostOrg(ctx context.Context) (int64, bool) {
	id, ok := ctx.Value(hostOrgKey{}).(int64)
	return id, ok
}

// atAnotherHost reports whether ctx's request came to the host of an
// organisation other than orgID, or to a host that is no one's: a row of
// orgID is then answered as unknown. A request to the provider's host
// (HostRoute) may reach any organisation's.
func atAnotherHost(ctx context.Context, orgID int64) bool {
	if unknown, _ := ctx.Value(unknownHostKey{}).(bool); unknown {
		return true
	}
	id, ok := hostOrg(ctx)
	return ok && id != orgID
}
