package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The developer portal's operations. Each takes the signed-in user and
// checks, before anything else, that the user is (still, as stored) a
// developer and owns the app: otherwise it returns gatehouse.ErrNotFound
// (wrapped), the same error for an app that exists and one that does not,
// so that a page answers 404 and never shows another owner's app. Each
// then runs the operator's operation (UpdateApp, CreateCredential, …)
// under the same validation, audited with the user as the actor and as
// the event's UserID. A page calls only these, never the operator's
// operations or the store.

// errNoSuchApp is the answer for an app the user may not see: unknown, of
// another owner, or asked for by a user who is not a developer.
var errNoSuchApp = &operatorError{msg: "no such app", is: gatehouse.ErrNotFound}

// developer returns the user as stored, provided it is a developer.
func (s *Server) developer(ctx context.Context, user gatehouse.User) (gatehouse.User, error) {
	if user.ID == 0 {
		return gatehouse.User{}, errNoSuchApp
	}
	u, err := s.store.GetUser(ctx, user.ID)
	if errors.Is(err, gatehouse.ErrNotFound) || err == nil && !u.Developer {
		return gatehouse.User{}, errNoSuchApp
	}
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("look up user: %w", err)
	}
	return u, nil
}

// OwnedApp returns the app clientID, read from the store (not a cache),
// provided user is a developer and owns it; otherwise
// gatehouse.ErrNotFound (wrapped).
func (s *Server) OwnedApp(ctx context.Context, user gatehouse.User, clientID string) (gatehouse.App, error) {
	dev, err := s.developer(ctx, user)
	if err != nil {
		return gatehouse.App{}, err
	}
	if !plausibleClientID(clientID) {
		return gatehouse.App{}, errNoSuchApp
	}
	a, err := s.store.GetApp(ctx, clientID)
	if errors.Is(err, gatehouse.ErrNotFound) || err == nil && a.OwnerID != dev.ID {
		return gatehouse.App{}, errNoSuchApp
	}
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("look up app: %w", err)
	}
	return a, nil
}

// OwnedApps returns the apps user owns, ordered by ID, provided user is a
// developer; otherwise gatehouse.ErrNotFound (wrapped).
func (s *Server) OwnedApps(ctx context.Context, user gatehouse.User) ([]gatehouse.App, error) {
	dev, err := s.developer(ctx, user)
	if err != nil {
		return nil, err
	}
	apps, err := s.store.ListAppsByOwner(ctx, dev.ID)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return apps, nil
}

// errOperatorOnly refuses a developer what only an operator may change.
var errOperatorOnly = refuse(errors.New("only an operator can give an app to another owner or make it a resource server ('gatehouse app update')"))

// CreateAppAsDeveloper registers an app owned by user, a developer, under
// the validation of RegisterApp; it returns the secret of a confidential
// app's first credential once. The owner is user whatever spec says; a
// resource server (which introspects every token) is refused: that is the
// operator's decision. A user who is not a developer gets
// gatehouse.ErrNotFound (wrapped).
func (s *Server) CreateAppAsDeveloper(ctx context.Context, user gatehouse.User, spec AppSpec) (gatehouse.App, string, error) {
	dev, err := s.developer(ctx, user)
	if err != nil {
		return gatehouse.App{}, "", err
	}
	if spec.ResourceServer {
		return gatehouse.App{}, "", errOperatorOnly
	}
	spec.OwnerID = dev.ID
	return s.RegisterApp(actingAs(ctx, dev), spec)
}

// UpdateOwnedApp is UpdateApp of an app that user owns. It may not change
// the owner or the resource server flag.
func (s *Server) UpdateOwnedApp(ctx context.Context, user gatehouse.User, clientID string, change AppChange) (gatehouse.App, []string, error) {
	a, err := s.OwnedApp(ctx, user, clientID)
	if err != nil {
		return gatehouse.App{}, nil, err
	}
	if change.OwnerID != nil && *change.OwnerID != a.OwnerID || change.ResourceServer != nil && *change.ResourceServer != a.ResourceServer {
		return gatehouse.App{}, nil, errOperatorOnly
	}
	return s.UpdateApp(actingAs(ctx, user), a.ClientID, change)
}

// AddRedirectURI adds uri to the redirect URIs of an app that user owns,
// under the validation of registration; an URI the app has already is no
// change.
func (s *Server) AddRedirectURI(ctx context.Context, user gatehouse.User, clientID, uri string) (gatehouse.App, []string, error) {
	a, err := s.OwnedApp(ctx, user, clientID)
	if err != nil {
		return gatehouse.App{}, nil, err
	}
	if slices.Contains(a.RedirectURIs, uri) {
		return a, nil, nil
	}
	uris := append(slices.Clone(a.RedirectURIs), uri)
	return s.UpdateApp(actingAs(ctx, user), a.ClientID, AppChange{RedirectURIs: &uris})
}

// RemoveRedirectURI removes uri from the redirect URIs of an app that
// user owns; the last one of an app that uses the authorization_code grant
// is refused, as by UpdateApp. An URI the app does not have is no change.
func (s *Server) RemoveRedirectURI(ctx context.Context, user gatehouse.User, clientID, uri string) (gatehouse.App, []string, error) {
	a, err := s.OwnedApp(ctx, user, clientID)
	if err != nil {
		return gatehouse.App{}, nil, err
	}
	if !slices.Contains(a.RedirectURIs, uri) {
		return a, nil, nil
	}
	uris := slices.DeleteFunc(slices.Clone(a.RedirectURIs), func(u string) bool { return u == uri })
	return s.UpdateApp(actingAs(ctx, user), a.ClientID, AppChange{RedirectURIs: &uris})
}

// DeleteOwnedApp is DeleteApp of an app that user owns: everything of the
// app stops working at once.
func (s *Server) DeleteOwnedApp(ctx context.Context, user gatehouse.User, clientID string) error {
	a, err := s.OwnedApp(ctx, user, clientID)
	if err != nil {
		return err
	}
	return s.DeleteApp(actingAs(ctx, user), a.ClientID)
}

// OwnedCredentials returns an app that user owns and its credentials,
// ordered by ID (never a secret: only digests are stored).
func (s *Server) OwnedCredentials(ctx context.Context, user gatehouse.User, clientID string) (gatehouse.App, []gatehouse.Credential, error) {
	a, err := s.OwnedApp(ctx, user, clientID)
	if err != nil {
		return gatehouse.App{}, nil, err
	}
	creds, err := s.store.ListCredentials(ctx, a.ID)
	if err != nil {
		return gatehouse.App{}, nil, fmt.Errorf("list credentials: %w", err)
	}
	return a, creds, nil
}

// CreateOwnedCredential is CreateCredential for an app that user owns; the
// secret is returned once.
func (s *Server) CreateOwnedCredential(ctx context.Context, user gatehouse.User, clientID, name string, expires time.Time) (string, gatehouse.Credential, error) {
	a, err := s.OwnedApp(ctx, user, clientID)
	if err != nil {
		return "", gatehouse.Credential{}, err
	}
	return s.CreateCredential(actingAs(ctx, user), a, name, expires)
}

// RotateOwnedCredential is RotateCredential for an app that user owns: it
// returns the new secret once, the new credential and the old one with its
// new expiry.
func (s *Server) RotateOwnedCredential(ctx context.Context, user gatehouse.User, clientID string, id int64, overlap time.Duration, name string) (string, gatehouse.Credential, gatehouse.Credential, error) {
	a, err := s.OwnedApp(ctx, user, clientID)
	if err != nil {
		return "", gatehouse.Credential{}, gatehouse.Credential{}, err
	}
	return s.RotateCredential(actingAs(ctx, user), a, id, overlap, name)
}

// RevokeOwnedCredential is RevokeCredential for an app that user owns: the
// credential is deleted as compromised, and every token and grant of the
// app is revoked with it.
func (s *Server) RevokeOwnedCredential(ctx context.Context, user gatehouse.User, clientID string, id int64) (gatehouse.Credential, gatehouse.Revoked, error) {
	a, err := s.OwnedApp(ctx, user, clientID)
	if err != nil {
		return gatehouse.Credential{}, gatehouse.Revoked{}, err
	}
	return s.RevokeCredential(actingAs(ctx, user), a, id)
}

// RegisteredScopes returns every registered scope, ordered by name, for the
// portal's create form; a scope's name and description are public (the
// discovery document lists the names).
func (s *Server) RegisteredScopes(ctx context.Context) ([]gatehouse.Scope, error) {
	scopes, err := s.store.ListScopes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list scopes: %w", err)
	}
	return scopes, nil
}

// SetDeveloper sets whether the user username is a developer, for an
// operator, and audits a change. It returns the user as it is now and
// whether anything changed, or gatehouse.ErrNotFound (wrapped) for an
// unknown username. A user who stops being a developer keeps the apps
// they own, and the portal shows them none.
func (s *Server) SetDeveloper(ctx context.Context, username string, developer bool) (gatehouse.User, bool, error) {
	u, err := s.UserNamed(ctx, username)
	if err != nil {
		return gatehouse.User{}, false, fmt.Errorf("update user: %w", err)
	}
	if u.Developer == developer {
		return u, false, nil
	}
	if err := s.store.SetUserDeveloper(ctx, u.ID, developer); err != nil {
		return gatehouse.User{}, false, fmt.Errorf("update user: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventUserUpdated, UserID: u.ID, Detail: Detail{
		"username": u.Username, "changed": []string{"developer"}, "before": map[string]any{"developer": u.Developer},
		"after": map[string]any{"developer": developer},
	}.String()})
	u.Developer = developer
	return u, true, nil
}
