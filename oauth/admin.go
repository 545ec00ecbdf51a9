package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// AppSpec describes an app to register.
type AppSpec struct {
	Name           string
	Type           gatehouse.AppType
	RedirectURIs   []string
	Scopes         []string
	DefaultScopes  []string // nil: the same as Scopes
	Grants         []string // nil: the defaults of the app type
	ResourceServer bool
	// OwnerID is the user who owns the app in the developer portal (zero:
	// none); the user must exist.
	OwnerID int64
	// The profile shown on the consent page (empty: none): one paragraph
	// of at most 500 characters, and absolute https URLs (see
	// ValidateProfileURL).
	Description string
	HomepageURL string
	PrivacyURL  string
	TermsURL    string
}

// DefaultGrants are the grant types of an app registered without --grant:
// authorization_code and refresh_token, and none for a resource server,
// which only introspects the tokens presented to it (and so needs no
// redirect URI). client_credentials is never a default: an app acting on
// its own behalf is a deliberate choice.
func DefaultGrants(spec AppSpec) []string {
	if spec.ResourceServer {
		return []string{}
	}
	return []string{gatehouse.GrantAuthorizationCode, gatehouse.GrantRefreshToken}
}

var knownGrants = []string{gatehouse.GrantAuthorizationCode, gatehouse.GrantRefreshToken, gatehouse.GrantClientCredentials, "device_code (" + gatehouse.GrantDeviceCode + ")"}

// RegisterApp validates and stores a new app. A confidential app gets its
// first credential, whose secret is returned here and never again.
func (s *Server) RegisterApp(ctx context.Context, spec AppSpec) (gatehouse.App, string, error) {
	if spec.Grants == nil {
		spec.Grants = DefaultGrants(spec)
	}
	spec.Grants = normalizeGrants(spec.Grants)
	if spec.DefaultScopes == nil {
		spec.DefaultScopes = spec.Scopes
	}
	if err := s.validateApp(ctx, spec); err != nil {
		return gatehouse.App{}, "", err
	}
	app := gatehouse.App{
		ClientID:       secret.NewID("app_"),
		Name:           spec.Name,
		Type:           spec.Type,
		RedirectURIs:   spec.RedirectURIs,
		Scopes:         spec.Scopes,
		DefaultScopes:  spec.DefaultScopes,
		Grants:         spec.Grants,
		ResourceServer: spec.ResourceServer,
		CreatedAt:      s.clock(),
		OwnerID:        spec.OwnerID,
		Description:    spec.Description,
		HomepageURL:    spec.HomepageURL,
		PrivacyURL:     spec.PrivacyURL,
		TermsURL:       spec.TermsURL,
	}
	var sec string
	var err error
	if app.Type == gatehouse.Public {
		// DESIGN invariant 5: a public app never has a secret.
		app, err = s.store.CreateApp(ctx, app)
	} else {
		// The app and its first credential are one transaction: no
		// half-registered app is ever left behind (DESIGN invariant 10).
		var cred gatehouse.Credential
		sec, cred = s.newCredential(0, "initial")
		app, err = s.store.CreateAppWithCredential(ctx, app, cred)
	}
	if err != nil {
		return gatehouse.App{}, "", fmt.Errorf("register app: %w", err)
	}
	detail := Detail{"client_id": app.ClientID, "name": app.Name}
	if app.OwnerID != 0 {
		detail["owner_id"] = app.OwnerID
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventAppCreated, AppID: app.ID, Detail: detail.String()})
	return app, sec, nil
}

// newCredential makes a client secret and the credential that stores its
// digest; the caller stores it.
func (s *Server) newCredential(appID int64, name string) (string, gatehouse.Credential) {
	sec := secret.New(secret.ClientSecret)
	return sec, gatehouse.Credential{AppID: appID, Name: name, Digest: s.digest.Digest(sec), Hint: secret.Hint(sec), CreatedAt: s.clock()}
}

func (s *Server) validateApp(ctx context.Context, spec AppSpec) error {
	var errs []error
	if spec.Name == "" || utf8.RuneCountInString(spec.Name) > 100 || !utf8.ValidString(spec.Name) || strings.ContainsAny(spec.Name, "\x00\r\n") {
		errs = append(errs, errors.New("the name must be 1 to 100 characters on one line"))
	} else if err := displayable(spec.Name); err != nil {
		errs = append(errs, fmt.Errorf("the name %w", err))
	}
	if !spec.Type.Valid() {
		errs = append(errs, fmt.Errorf("the type must be confidential or public, not %s", quote(string(spec.Type))))
	}
	errs = append(errs, validateGrants(spec)...)
	for i, u := range spec.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			errs = append(errs, err)
		} else if slices.Contains(spec.RedirectURIs[:i], u) {
			errs = append(errs, fmt.Errorf("redirect URI %s is given twice", quote(u)))
		}
	}
	errs = append(errs, s.validateScopes(ctx, spec)...)
	if spec.ResourceServer && spec.Type != gatehouse.Confidential {
		errs = append(errs, errors.New("only a confidential app can be a resource server"))
	}
	errs = append(errs, validateProfile(spec)...)
	errs = append(errs, s.validateOwner(ctx, spec.OwnerID)...)
	return refuse(errors.Join(errs...))
}

func validateGrants(spec AppSpec) []error {
	var errs []error
	for _, g := range spec.Grants {
		if !slices.Contains(knownGrants, g) && g != gatehouse.GrantDeviceCode {
			errs = append(errs, fmt.Errorf("unknown grant type %s (known: %s)", quote(g), strings.Join(knownGrants, ", ")))
		}
	}
	if spec.Type == gatehouse.Public && slices.Contains(spec.Grants, gatehouse.GrantClientCredentials) {
		errs = append(errs, errors.New("a public app cannot use client_credentials"))
	}
	if slices.Contains(spec.Grants, gatehouse.GrantAuthorizationCode) && len(spec.RedirectURIs) == 0 {
		errs = append(errs, errors.New("the authorization_code grant needs at least one --redirect-uri"))
	}
	return errs
}

func (s *Server) validateScopes(ctx context.Context, spec AppSpec) []error {
	var errs []error
	for _, name := range spec.Scopes {
		if !ValidScopeName(name) {
			errs = append(errs, fmt.Errorf("scope %s is not registered (gatehouse scope create)", quote(name)))
		} else if _, err := s.store.GetScope(ctx, name); errors.Is(err, gatehouse.ErrNotFound) {
			errs = append(errs, fmt.Errorf("scope %s is not registered (gatehouse scope create)", quote(name)))
		} else if err != nil {
			errs = append(errs, fmt.Errorf("look up scope: %w", err))
		}
	}
	for _, name := range spec.DefaultScopes {
		if !slices.Contains(spec.Scopes, name) {
			errs = append(errs, fmt.Errorf("default scope %s is not one of the app's scopes", quote(name)))
		}
	}
	return errs
}

// CreateScope registers a scope.
func (s *Server) CreateScope(ctx context.Context, name, description string) (gatehouse.Scope, error) {
	if !ValidScopeName(name) {
		return gatehouse.Scope{}, errors.New("a scope name is 1 to 128 printable ASCII characters without spaces, quotes or backslashes")
	}
	if description == "" || len(description) > 500 || !utf8.ValidString(description) {
		return gatehouse.Scope{}, errors.New("a scope needs a description of 1 to 500 characters")
	}
	sc := gatehouse.Scope{Name: name, Description: description, CreatedAt: s.clock()}
	if err := s.store.CreateScope(ctx, sc); errors.Is(err, gatehouse.ErrAlreadyExists) {
		return gatehouse.Scope{}, taken("scope", name)
	} else if err != nil {
		return gatehouse.Scope{}, fmt.Errorf("create scope %s: %w", quote(name), err)
	}
	return sc, nil
}

// UserSpec describes a local user to register.
type UserSpec struct {
	Username string
	Password string
	// Developer users may use the developer portal.
	Developer bool
}

// CreateUser registers a local user with an argon2id password hash.
func (s *Server) CreateUser(ctx context.Context, username, password string) (gatehouse.User, error) {
	return s.RegisterUser(ctx, UserSpec{Username: username, Password: password})
}

// RegisterUser registers a local user with an argon2id password hash, a
// developer when spec says so, in one write.
func (s *Server) RegisterUser(ctx context.Context, spec UserSpec) (gatehouse.User, error) {
	username, password := spec.Username, spec.Password
	if !validUsername(username) {
		return gatehouse.User{}, errors.New("a username is 1 to 64 characters of letters, digits, '.', '_', '-' and '@'")
	}
	hash, err := HashPassword(password)
	if err != nil {
		return gatehouse.User{}, err
	}
	u, err := s.store.CreateUser(ctx, gatehouse.User{Username: username, PasswordHash: hash, CreatedAt: s.clock(), Developer: spec.Developer})
	if errors.Is(err, gatehouse.ErrAlreadyExists) {
		return gatehouse.User{}, taken("user", username)
	}
	if err != nil {
		return gatehouse.User{}, fmt.Errorf("create user %s: %w", quote(username), err)
	}
	return u, nil
}

func validUsername(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c)
		if !ok {
			return false
		}
	}
	return true
}

// DeleteApp deletes an app and everything of it: its credentials stop
// authenticating and its tokens stop working at once (DESIGN revocation
// cascade: "App deleted").
// It is audited with the app's client_id and name, which the event
// outlives.
func (s *Server) DeleteApp(ctx context.Context, clientID string) error {
	if !plausibleClientID(clientID) {
		return fmt.Errorf("delete app: %w", gatehouse.ErrNotFound)
	}
	a, err := s.store.GetApp(ctx, clientID)
	if err != nil {
		return fmt.Errorf("delete app: %w", err)
	}
	if err := s.store.DeleteApp(ctx, clientID); err != nil {
		return fmt.Errorf("delete app: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventAppDeleted, AppID: a.ID, Detail: Detail{"client_id": a.ClientID, "name": a.Name}.String()})
	return nil
}

// RevokeGrantByOperator revokes a grant and every token issued in it
// (DESIGN revocation cascade), for an operator, and audits it. It returns
// gatehouse.ErrNotFound for an unknown grant; a grant revoked before keeps
// its first revocation time.
func (s *Server) RevokeGrantByOperator(ctx context.Context, id int64) (gatehouse.Grant, error) {
	g, err := s.store.GetGrant(ctx, id)
	if err != nil {
		return gatehouse.Grant{}, fmt.Errorf("revoke grant %d: %w", id, err)
	}
	now := s.clock()
	if err := s.store.RevokeGrant(ctx, id, now); err != nil {
		return gatehouse.Grant{}, fmt.Errorf("revoke grant %d: %w", id, err)
	}
	if g.RevokedAt.IsZero() {
		g.RevokedAt = now
		s.event(ctx, gatehouse.Event{Kind: gatehouse.EventGrantRevoked, At: now, AppID: g.AppID, UserID: g.UserID, GrantID: g.ID,
			Detail: "the operator revoked the grant (gatehouse grant revoke); every token issued in it was revoked"})
	}
	return g, nil
}

// DisconnectApp ends a user's connection to an app: every grant of the
// user for the app is revoked with its tokens, and the consent is
// forgotten, so that the next authorization asks again (DESIGN's cascade:
// "User disconnects an app"). When it revoked a grant it is audited,
// with the user as the actor unless the context names another (an
// operator); it returns what it revoked.
func (s *Server) DisconnectApp(ctx context.Context, userID, appID int64) (gatehouse.Revoked, error) {
	now := s.clock()
	r, err := s.store.DisconnectApp(ctx, userID, appID, now)
	if err != nil {
		return gatehouse.Revoked{}, fmt.Errorf("disconnect app: %w", err)
	}
	if r.Grants == 0 {
		return r, nil // nothing was connected: nothing to audit
	}
	actor, _ := ctx.Value(actorKey{}).(string)
	if actor == "" {
		actor = gatehouse.ActorUser
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventAppDisconnected, At: now, Actor: actor, AppID: appID, UserID: userID,
		Detail: Detail{"grants_revoked": r.Grants, "tokens_revoked": r.Tokens}.String()})
	return r, nil
}
