package oauth

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Day is 24 hours, the unit of the review's policies.
const Day = 24 * time.Hour

// Default policies of the review.
const (
	DefaultCredentialMaxAge = 90 * Day
	DefaultCredentialUnused = 7 * Day
	DefaultOverlapMax       = 30 * Day
	DefaultUnusedScopeAge   = 90 * Day
	DefaultRefreshIdle      = 7 * Day
)

// ReviewPolicy holds the thresholds of Review; a zero field takes its
// default.
type ReviewPolicy struct {
	// CredentialMaxAge: a credential older than this is due for rotation
	// ("rotate client credentials regularly").
	CredentialMaxAge time.Duration
	// CredentialUnused: a credential never used this long after its
	// creation is likely forgotten.
	CredentialUnused time.Duration
	// OverlapMax: an app holding several live credentials whose newest is
	// older than this did not finish a rotation.
	OverlapMax time.Duration
	// UnusedScopeAge: a scope the app may request but did not use for this
	// long should go ("request minimal scopes").
	UnusedScopeAge time.Duration
	// RefreshIdle: live refresh tokens issued longer ago than this and never
	// exchanged belong to connections nobody uses.
	RefreshIdle time.Duration
}

func (p *ReviewPolicy) setDefaults() {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&p.CredentialMaxAge, DefaultCredentialMaxAge},
		{&p.CredentialUnused, DefaultCredentialUnused},
		{&p.OverlapMax, DefaultOverlapMax},
		{&p.UnusedScopeAge, DefaultUnusedScopeAge},
		{&p.RefreshIdle, DefaultRefreshIdle},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
}

// Severity ranks a finding.
type Severity string

// Severities, from the worst.
const (
	SeverityHigh   Severity = "high"
	SeverityMedium Severity = "medium"
	SeverityLow    Severity = "low"
)

func (s Severity) rank() int {
	switch s {
	case SeverityHigh:
		return 0
	case SeverityMedium:
		return 1
	}
	return 2
}

// The checks of the review, as Finding.Check names them.
const (
	CheckPublicAppCredential = "public_app_credential"
	CheckHTTPRedirectURI     = "http_redirect_uri"
	CheckRefusedRedirectURI  = "refused_redirect_uri"
	CheckCredentialAge       = "credential_age"
	CheckCredentialUnused    = "credential_unused"
	CheckCredentialOverlap   = "credential_overlap"
	CheckUnusedScope         = "unused_scope"
	CheckRefreshIdle         = "refresh_idle"
)

// Finding is one thing wrong with one app, and the command that fixes it.
type Finding struct {
	Severity Severity
	Check    string // one of the Check constants
	ClientID string
	App      string // the app's name
	Message  string // what is wrong
	Fix      string // the exact command (or commands) that fix it
}

// Review checks every app against the checklist and returns the findings,
// the worst first, then in the order of the apps (by ID). It only reads.
func (s *Server) Review(ctx context.Context, p ReviewPolicy) ([]Finding, error) {
	p.setDefaults()
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		return nil, fmt.Errorf("review: %w", err)
	}
	now := s.clock()
	var out []Finding
	for _, a := range apps {
		fs, err := s.reviewApp(ctx, a, p, now)
		if err != nil {
			return nil, fmt.Errorf("review app %s: %w", a.ClientID, err)
		}
		out = append(out, fs...)
	}
	slices.SortStableFunc(out, func(x, y Finding) int { return cmp.Compare(x.Severity.rank(), y.Severity.rank()) })
	return out, nil
}

// appReview collects the findings of one app.
type appReview struct {
	app gatehouse.App
	out []Finding
}

func (r *appReview) add(sev Severity, check, fix, format string, args ...any) {
	r.out = append(r.out, Finding{Severity: sev, Check: check, ClientID: r.app.ClientID, App: r.app.Name,
		Message: fmt.Sprintf(format, args...), Fix: fix})
}

func (s *Server) reviewApp(ctx context.Context, a gatehouse.App, p ReviewPolicy, now time.Time) ([]Finding, error) {
	r := &appReview{app: a}
	creds, err := s.store.ListCredentials(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if a.Type == gatehouse.Public {
		reviewPublicCredentials(r, creds)
	} else {
		reviewCredentials(r, creds, p, now)
	}
	reviewRedirectURIs(r)
	use, err := s.store.ListScopeUse(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	reviewScopes(r, use, p, now)
	idle, err := s.store.CountIdleRefreshTokens(ctx, a.ID, now.Add(-p.RefreshIdle), now)
	if err != nil {
		return nil, err
	}
	if idle > 0 {
		r.add(SeverityLow, CheckRefreshIdle, "gatehouse grant list --app "+a.ClientID+", then gatehouse grant revoke ID for each grant nobody uses",
			"%d live refresh token(s) issued over %s ago were never exchanged", idle, days(p.RefreshIdle))
	}
	return r.out, nil
}

// reviewPublicCredentials: DESIGN invariant 5, a public app never has a
// secret. One it holds was written past Gatehouse, into the database.
func reviewPublicCredentials(r *appReview, creds []gatehouse.Credential) {
	for _, c := range creds {
		r.add(SeverityHigh, CheckPublicAppCredential, credentialCmd("delete", r.app, c),
			"public app holds credential %d (hint %s): a public app never has a secret, so the database was changed outside Gatehouse", c.ID, c.Hint)
	}
}

// reviewCredentials: "rotate client credentials regularly"; forgotten and
// lingering credentials.
func reviewCredentials(r *appReview, creds []gatehouse.Credential, p ReviewPolicy, now time.Time) {
	var live []gatehouse.Credential
	for _, c := range creds {
		if !c.Expired(now) {
			live = append(live, c)
		}
	}
	var newest gatehouse.Credential
	for _, c := range live {
		if c.CreatedAt.After(newest.CreatedAt) || newest.ID == 0 {
			newest = c
		}
	}
	for _, c := range live {
		age := now.Sub(c.CreatedAt)
		// An outgoing credential (it expires, and a newer one replaces
		// it) was rotated already; the overlap check watches it.
		outgoing := !c.ExpiresAt.IsZero() && c.ID != newest.ID
		if age > p.CredentialMaxAge && !outgoing {
			r.add(SeverityMedium, CheckCredentialAge, credentialCmd("rotate", r.app, c),
				"credential %d (hint %s) is %s old, over the policy of %s", c.ID, c.Hint, days(age), days(p.CredentialMaxAge))
		}
		if c.LastUsedAt.IsZero() && age > p.CredentialUnused {
			r.add(SeverityLow, CheckCredentialUnused, credentialCmd("delete", r.app, c)+" (if nothing uses it; deleting a credential revokes every token of the app)",
				"credential %d (hint %s) was created %s ago and never used", c.ID, c.Hint, days(age))
		}
	}
	if len(live) < 2 || now.Sub(newest.CreatedAt) <= p.OverlapMax {
		return
	}
	var ids, cmds []string
	for _, c := range live {
		if c.ID != newest.ID {
			ids = append(ids, fmt.Sprint(c.ID))
			cmds = append(cmds, credentialCmd("delete", r.app, c))
		}
	}
	r.add(SeverityMedium, CheckCredentialOverlap, strings.Join(cmds, "; ")+" (once every client uses credential "+fmt.Sprint(newest.ID)+"; deleting revokes every token of the app), or let them expire",
		"%d credentials are live and the newest (%d) is %s old: credential(s) %s outlived a rotation by over %s",
		len(live), newest.ID, days(now.Sub(newest.CreatedAt)), strings.Join(ids, ", "), days(p.OverlapMax))
}

func credentialCmd(verb string, a gatehouse.App, c gatehouse.Credential) string {
	return fmt.Sprintf("gatehouse credential %s --app %s --credential %d", verb, a.ClientID, c.ID)
}

// reviewRedirectURIs finds registered URIs that registration refuses
// (DESIGN invariant 3), written into the database past it or by an older
// version: http on a host other than a loopback IP literal is high (codes
// travel in clear text), anything else refused medium.
func reviewRedirectURIs(r *appReview) {
	type refused struct {
		uri  string
		http bool
		err  error
	}
	var bad []refused
	var fixed []string // the URIs registration accepts, http ones made https
	for _, raw := range r.app.RedirectURIs {
		err := ValidateRedirectURI(raw)
		if err == nil {
			fixed = append(fixed, raw)
			continue
		}
		u, perr := url.Parse(raw)
		if perr == nil && u.Scheme == "http" && !isLoopbackIP(u.Hostname()) {
			u.Scheme = "https"
			fixed = append(fixed, u.String())
			bad = append(bad, refused{uri: raw, http: true})
			continue
		}
		bad = append(bad, refused{uri: raw, err: err})
	}
	fix := "gatehouse app update " + r.app.ClientID + " --redirect-uri " + strings.Join(fixed, ",")
	for _, b := range bad {
		if b.http {
			r.add(SeverityHigh, CheckHTTPRedirectURI, fix, "redirect URI %s is http on a host that is not a loopback IP: codes would travel in clear text", quote(b.uri))
		} else {
			r.add(SeverityMedium, CheckRefusedRedirectURI, fix, "registration refuses a registered redirect URI: %v", b.err)
		}
	}
}

// reviewScopes: "request minimal scopes". An app younger than the policy
// is not judged; nor, by migration 0009, is any app sooner than the policy
// after the upgrade that began recording use.
func reviewScopes(r *appReview, use []gatehouse.ScopeUse, p ReviewPolicy, now time.Time) {
	since := now.Add(-p.UnusedScopeAge)
	if len(r.app.Scopes) == 0 || !r.app.CreatedAt.Before(since) {
		return
	}
	last := map[string]time.Time{}
	for _, u := range use {
		last[u.Scope] = u.LastUsedAt
	}
	var unused, kept, keptDefaults []string
	for _, sc := range r.app.Scopes {
		if last[sc].Before(since) {
			unused = append(unused, sc)
		} else {
			kept = append(kept, sc)
		}
	}
	if len(unused) == 0 {
		return
	}
	if len(kept) == 0 {
		r.add(SeverityLow, CheckUnusedScope, "gatehouse app delete "+r.app.ClientID+" (if nobody uses the app)",
			"no token was issued to the app in %s: none of its scopes (%s) was used", days(p.UnusedScopeAge), strings.Join(unused, " "))
		return
	}
	for _, sc := range r.app.DefaultScopes {
		if slices.Contains(kept, sc) {
			keptDefaults = append(keptDefaults, sc)
		}
	}
	fix := "gatehouse app update " + r.app.ClientID + " --scope " + strings.Join(kept, ",")
	if len(keptDefaults) > 0 {
		fix += " --default-scope " + strings.Join(keptDefaults, ",")
	}
	r.add(SeverityLow, CheckUnusedScope, fix, "the app may request %s but used none of them in %s",
		strings.Join(unused, " "), days(p.UnusedScopeAge))
}

// days writes a duration in whole days, or hours below two days.
func days(d time.Duration) string {
	if d < 2*Day {
		return fmt.Sprintf("%dh", int64(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int64(d/Day))
}
