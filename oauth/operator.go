package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// AppChange says what to change in a registered app: a nil field stays as
// it is. A list replaces the app's list; an empty one empties it. The type
// of an app never changes (a public app's users hold tokens issued without
// client authentication; making it confidential would not make them safe).
type AppChange struct {
	Name           *string
	RedirectURIs   *[]string
	Scopes         *[]string
	DefaultScopes  *[]string
	Grants         *[]string
	ResourceServer *bool
	// OwnerID gives the app to another user; zero: to no one.
	OwnerID *int64
	// The profile; an empty string removes a field.
	Description *string
	HomepageURL *string
	PrivacyURL  *string
	TermsURL    *string
}

// apply returns spec with c's fields replaced, and the names of the fields
// whose value changes (as the JSON output names them).
func (c AppChange) apply(spec AppSpec) (AppSpec, []string) {
	var changed []string
	list := func(name string, dst *[]string, src *[]string) {
		if src != nil && !slices.Equal(*dst, *src) {
			*dst = slices.Clone(*src)
			changed = append(changed, name)
		}
	}
	if c.Name != nil && *c.Name != spec.Name {
		spec.Name = *c.Name
		changed = append(changed, "name")
	}
	list("redirect_uris", &spec.RedirectURIs, c.RedirectURIs)
	list("scopes", &spec.Scopes, c.Scopes)
	list("default_scopes", &spec.DefaultScopes, c.DefaultScopes)
	list("grant_types", &spec.Grants, c.Grants)
	if c.ResourceServer != nil && *c.ResourceServer != spec.ResourceServer {
		spec.ResourceServer = *c.ResourceServer
		changed = append(changed, "resource_server")
	}
	if c.OwnerID != nil && *c.OwnerID != spec.OwnerID {
		spec.OwnerID = *c.OwnerID
		changed = append(changed, "owner_id")
	}
	text := func(name string, dst *string, src *string) {
		if src != nil && *dst != *src {
			*dst = *src
			changed = append(changed, name)
		}
	}
	text("description", &spec.Description, c.Description)
	text("homepage_url", &spec.HomepageURL, c.HomepageURL)
	text("privacy_url", &spec.PrivacyURL, c.PrivacyURL)
	text("terms_url", &spec.TermsURL, c.TermsURL)
	return spec, changed
}

// specOf is the registration of a stored app.
func specOf(a gatehouse.App) AppSpec {
	return AppSpec{Name: a.Name, Type: a.Type, RedirectURIs: a.RedirectURIs, Scopes: a.Scopes,
		DefaultScopes: a.DefaultScopes, Grants: a.Grants, ResourceServer: a.ResourceServer,
		OwnerID: a.OwnerID, Description: a.Description, HomepageURL: a.HomepageURL, PrivacyURL: a.PrivacyURL, TermsURL: a.TermsURL}
}

// fields returns the named fields of spec, for an audit event's detail.
func (spec AppSpec) fields(names []string) map[string]any {
	all := map[string]any{"name": spec.Name, "redirect_uris": spec.RedirectURIs, "scopes": spec.Scopes,
		"default_scopes": spec.DefaultScopes, "grant_types": spec.Grants, "resource_server": spec.ResourceServer,
		"owner_id": spec.OwnerID, "description": spec.Description, "homepage_url": spec.HomepageURL,
		"privacy_url": spec.PrivacyURL, "terms_url": spec.TermsURL}
	out := make(map[string]any, len(names))
	for _, n := range names {
		out[n] = all[n]
	}
	return out
}

// UpdateApp changes a registered app under the same validation as
// RegisterApp, the app as it will be checked as a whole (a public app
// cannot become a resource server; dropping the last redirect URI of an app
// that uses the authorization_code grant is refused). It returns the app as
// stored and the names of the fields that changed; when none did, nothing
// is written. A running server sees the change from its next request (the
// generation changes). It returns gatehouse.ErrNotFound (wrapped) for an
// unknown client_id. The change is audited with the fields' old and new
// values.
func (s *Server) UpdateApp(ctx context.Context, clientID string, change AppChange) (gatehouse.App, []string, error) {
	if !plausibleClientID(clientID) {
		return gatehouse.App{}, nil, fmt.Errorf("update app: %w", gatehouse.ErrNotFound)
	}
	old, err := s.store.GetApp(ctx, clientID)
	if err != nil {
		return gatehouse.App{}, nil, fmt.Errorf("update app: %w", err)
	}
	if change.Grants != nil {
		grants := normalizeGrants(*change.Grants)
		change.Grants = &grants
	}
	before := specOf(old)
	spec, changed := change.apply(before)
	if len(changed) == 0 {
		return old, nil, nil
	}
	if err := s.validateApp(ctx, spec); err != nil {
		return gatehouse.App{}, nil, err
	}
	next := old
	next.Name, next.RedirectURIs, next.Scopes, next.DefaultScopes = spec.Name, spec.RedirectURIs, spec.Scopes, spec.DefaultScopes
	next.Grants, next.ResourceServer = spec.Grants, spec.ResourceServer
	next.OwnerID, next.Description, next.HomepageURL, next.PrivacyURL, next.TermsURL = spec.OwnerID, spec.Description, spec.HomepageURL, spec.PrivacyURL, spec.TermsURL
	stored, err := s.store.UpdateApp(ctx, next)
	if errors.Is(err, gatehouse.ErrNotFound) {
		// Validated a moment ago: the app, a scope or the owner was deleted since.
		return gatehouse.App{}, nil, fmt.Errorf("app %s, one of its scopes or its owner was deleted while it was being updated; nothing was changed", quote(clientID))
	}
	if err != nil {
		return gatehouse.App{}, nil, fmt.Errorf("update app: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventAppUpdated, AppID: stored.ID, Detail: Detail{
		"client_id": stored.ClientID, "name": stored.Name, "changed": changed,
		"before": before.fields(changed), "after": spec.fields(changed),
	}.String()})
	return stored, changed, nil
}

// DeleteScope deletes a scope that no app lists, and audits it; grants and
// tokens issued with it keep its name until they end. A scope in use is
// refused with the apps that use it (gatehouse.ErrInUse). It returns
// gatehouse.ErrNotFound (wrapped) for an unknown scope.
func (s *Server) DeleteScope(ctx context.Context, name string) error {
	if err := s.CheckScopeDeletable(ctx, name); err != nil {
		return err
	}
	err := s.store.DeleteScope(ctx, name)
	if errors.Is(err, gatehouse.ErrInUse) {
		// An app was registered with it since the check.
		return scopeInUse(name, nil)
	}
	if err != nil {
		return fmt.Errorf("delete scope: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventScopeDeleted, Detail: Detail{"scope": name}.String()})
	return nil
}

// CheckScopeDeletable returns the error DeleteScope would return for name
// now, without deleting anything, so that a command can refuse before it
// asks for a confirmation.
func (s *Server) CheckScopeDeletable(ctx context.Context, name string) error {
	if !ValidScopeName(name) {
		return fmt.Errorf("delete scope: %w", gatehouse.ErrNotFound)
	}
	if _, err := s.store.GetScope(ctx, name); err != nil {
		return fmt.Errorf("delete scope: %w", err)
	}
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		return fmt.Errorf("delete scope: %w", err)
	}
	var users []string
	for _, a := range apps {
		if slices.Contains(a.Scopes, name) || slices.Contains(a.DefaultScopes, name) {
			users = append(users, a.ClientID)
		}
	}
	if len(users) > 0 {
		return scopeInUse(name, users)
	}
	return nil
}

// scopeInUse is the refusal to delete a scope that apps list.
func scopeInUse(name string, clientIDs []string) error {
	who := "an app"
	switch n := len(clientIDs); {
	case n == 1:
		who = "1 app (" + clientIDs[0] + ")"
	case n > 1:
		who = fmt.Sprintf("%d apps (%s)", n, strings.Join(clientIDs, ", "))
	}
	return &operatorError{
		msg: fmt.Sprintf("scope %s is used by %s: remove it with 'gatehouse app update' first", quote(name), who),
		is:  gatehouse.ErrInUse,
	}
}

// DeleteUser deletes a user with everything of the user: sessions,
// devices, consents, grants and their codes and tokens, which stop working
// at once. It audits the deletion and returns the deleted user, or
// gatehouse.ErrNotFound (wrapped) for an unknown username.
func (s *Server) DeleteUser(ctx context.Context, username string) (gatehouse.User, error) {
	u, err := s.UserNamed(ctx, username)
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("delete user: %w", err)
	}
	if err := s.store.DeleteUser(ctx, u.ID); err != nil {
		return gatehouse.User{}, fmt.Errorf("delete user: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventUserDeleted, UserID: u.ID, Detail: Detail{"username": u.Username}.String()})
	return u, nil
}

// SetPassword gives a user a new password and ends every login session of
// the user and forgets the user's devices (the answer to a taken-over
// account: the intruder's browser is signed out and loses the exemptions
// of a known device). The user's grants live on; revoke them with
// RevokeGrantByOperator. It audits the change, never the password, and
// returns gatehouse.ErrNotFound (wrapped) for an unknown username.
func (s *Server) SetPassword(ctx context.Context, username, password string) (gatehouse.User, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return gatehouse.User{}, err
	}
	u, err := s.UserNamed(ctx, username)
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("set password: %w", err)
	}
	if err := s.store.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return gatehouse.User{}, fmt.Errorf("set password: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventPasswordChanged, UserID: u.ID,
		Detail: Detail{"username": u.Username, "sessions": "ended", "devices": "forgotten"}.String()})
	return u, nil
}

// UserNamed looks a user up by username; a name no account can have is
// gatehouse.ErrNotFound without a database lookup (PostgreSQL refuses a NUL
// byte or invalid UTF-8 with an error, not a miss).
func (s *Server) UserNamed(ctx context.Context, username string) (gatehouse.User, error) {
	if !validUsername(username) {
		return gatehouse.User{}, gatehouse.ErrNotFound
	}
	return s.store.GetUserByUsername(ctx, username)
}
