package pages

// DetectPlatform guesses the client platform from a User-Agent header:
// "android", "ios", "windows", "macos", "linux", or "" when it cannot tell
// (curl, a bot, ChromeOS). Android is checked before Linux because Android
// browsers also say Linux; an iPad in desktop mode says Macintosh but keeps
// "Mobile", so that counts as iOS. It allocates nothing: it runs on every
// landing page request.
func DetectPlatform(userAgent string) string {
	switch {
	case containsFold(userAgent, "android"):
		return "android"
	case containsFold(userAgent, "iphone"), containsFold(userAgent, "ipad"), containsFold(userAgent, "ipod"):
		return "ios"
	case containsFold(userAgent, "macintosh") && containsFold(userAgent, "mobile"):
		return "ios"
	case containsFold(userAgent, "windows"):
		return "windows"
	case containsFold(userAgent, "macintosh"), containsFold(userAgent, "mac os x"):
		return "macos"
	case containsFold(userAgent, "linux"):
		return "linux"
	}
	return ""
}

// containsFold reports whether s contains lower, a lower-case ASCII word,
// ignoring ASCII case.
func containsFold(s, lower string) bool {
	n := len(lower)
outer:
	for i := 0; i+n <= len(s); i++ {
		for j := 0; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				continue outer
			}
		}
		return true
	}
	return false
}
