package gatehouse

import (
	"slices"
	"time"
)

// AppType says whether an app can keep a secret.
type AppType string

const (
	// Confidential apps run on a backend that holds a client secret.
	Confidential AppType = "confidential"
	// Public apps (SPA, mobile, desktop, CLI) never have a secret.
	Public AppType = "public"
)

// Valid reports whether t is a known app type.
func (t AppType) Valid() bool { return t == Confidential || t == Public }

// Grant types an app may be allowed to use.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	// GrantDeviceCode is the device authorization grant (RFC 8628 §3.4),
	// for apps on devices that cannot show a browser or take typing.
	GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
)

// App is a registered OAuth client.
type App struct {
	ID            int64
	ClientID      string
	Name          string
	Type          AppType
	RedirectURIs  []string
	Scopes        []string // the scopes the app may request
	DefaultScopes []string // granted when a request omits scope; a subset of Scopes
	Grants        []string // the grant types the app may use
	// ResourceServer apps may introspect any token, not only their own.
	ResourceServer bool
	CreatedAt      time.Time
	// OwnerID is the user who owns the app in the developer portal; zero:
	// none. Deleting the user leaves the app without an owner.
	OwnerID int64
	// The app's profile, shown to users on the consent page: a paragraph
	// about the app and https URLs of its homepage, privacy policy and
	// terms of service; empty: none.
	Description string
	HomepageURL string
	PrivacyURL  string
	TermsURL    string
}

// AllowsGrant reports whether the app may use grant type g.
func (a App) AllowsGrant(g string) bool { return slices.Contains(a.Grants, g) }

// Credential is a client secret of a confidential app. Only its keyed digest
// is stored; the secret itself is shown once, when it is created.
type Credential struct {
	ID         int64
	AppID      int64
	Name       string // the operator's label: "ci", "prod-2026"; unique is not required
	Digest     []byte
	Hint       string // the last characters of the secret, to tell credentials apart
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never expires
	LastUsedAt time.Time // zero: never used
}

// Expired reports whether the credential has expired at now.
func (c Credential) Expired(now time.Time) bool {
	return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// ScopeUse is when an app last used one scope: the last time a token
// with it was issued to the app, as the protocol engine records it (at
// most once an hour per app, scope and process, so up to an hour stale).
type ScopeUse struct {
	AppID      int64
	Scope      string
	LastUsedAt time.Time
}

// Scope is a permission an app can ask for, with the description a user sees.
type Scope struct {
	Name        string
	Description string
	CreatedAt   time.Time
}

// User is a local account that can connect apps.
type User struct {
	ID           int64
	Username     string
	PasswordHash string // argon2id, PHC string format
	CreatedAt    time.Time
	// Developer users may use the developer portal: see and change the
	// apps they own, and register new ones.
	Developer bool
}

// Grant is one connection of a user to an app: the family of tokens that the
// authorization code flow and its refreshes issue.
type Grant struct {
	ID        int64
	UserID    int64
	AppID     int64
	Scopes    []string
	CreatedAt time.Time
	RevokedAt time.Time // zero: active
}

// Consent records the scopes a user allowed an app.
type Consent struct {
	UserID    int64
	AppID     int64
	Scopes    []string
	UpdatedAt time.Time
}

// Code is an authorization code: single-use and short-lived.
type Code struct {
	Digest      []byte
	AppID       int64
	UserID      int64
	GrantID     int64
	RedirectURI string
	Scopes      []string
	Challenge   string // PKCE S256 code_challenge
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time // zero: not yet redeemed
}

// DeviceCode is a device authorization request (RFC 8628): the app on a
// device polls with the device code while its user, elsewhere, enters the
// user code on the verification page and approves or denies. Both codes
// are stored only as keyed digests.
type DeviceCode struct {
	Digest    []byte // of the device_code
	UserCode  []byte // of the user code, normalized (upper case, no separator)
	AppID     int64
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Interval is how long the app must wait between polls; slow_down
	// makes it longer (RFC 8628 §3.5).
	Interval time.Duration
	PolledAt time.Time // the last poll; zero: none yet
	// UserID is the user who decided, DecidedAt when; zero: undecided.
	UserID    int64
	DecidedAt time.Time
	// GrantID is the grant the user's approval opened; zero with a
	// decision: denied.
	GrantID int64
	UsedAt  time.Time // when tokens were issued for it; zero: not yet
}

// Decided reports whether the user approved or denied the request.
func (d DeviceCode) Decided() bool { return !d.DecidedAt.IsZero() }

// Approved reports whether the user approved the request.
func (d DeviceCode) Approved() bool { return d.Decided() && d.GrantID != 0 }

// TokenKind tells access tokens from refresh tokens.
type TokenKind string

const (
	AccessToken  TokenKind = "access"
	RefreshToken TokenKind = "refresh"
)

// Token is an issued access or refresh token. Only its keyed digest is stored.
type Token struct {
	Digest    []byte
	Kind      TokenKind
	AppID     int64
	UserID    int64 // zero for client credentials tokens
	GrantID   int64 // zero for client credentials tokens
	Scopes    []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero: not revoked
	// Parent is the digest of the refresh token whose exchange issued this
	// token; nil for tokens issued from a code or client credentials.
	Parent []byte
	// UsedAt is when a refresh token was exchanged; zero: not yet.
	UsedAt time.Time
}

// Active reports whether the token can be used at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

// Session is a user's login session at the authorization server. Only the
// digest of the session id (the cookie value) is stored.
type Session struct {
	Digest    []byte
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Device is a browser that its user signed in from successfully: the keyed
// digest of its device cookie, which exempts it from the sign-in limits
// that strangers exhaust.
type Device struct {
	Digest    []byte
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// MaxCredentials is how many unexpired credentials a confidential app may
// hold at once.
const MaxCredentials = 5

// Event kinds recorded in the audit log.
const (
	EventCodeReplay = "code_replay"
	// EventCodeRefused: a code was presented by another app, or with a
	// wrong redirect URI or verifier; it was not consumed.
	EventCodeRefused     = "code_refused"
	EventRefreshReuse    = "refresh_token_reuse"
	EventRefreshRetry    = "refresh_token_retry"
	EventLoginThrottled  = "login_throttled"
	EventClientThrottled = "client_auth_throttled"
	// EventIntrospectionThrottled: a caller introspected too many tokens
	// that do not exist (a scan).
	EventIntrospectionThrottled = "introspection_throttled"
	// EventGrantRevoked: an operator revoked a grant, and with it every
	// token issued in it.
	EventGrantRevoked = "grant_revoked"

	EventCredentialCreated = "credential_created"
	EventCredentialRotated = "credential_rotated"
	// EventCredentialExpired: the janitor saw a credential pass its expiry.
	EventCredentialExpired = "credential_expired"
	// EventCredentialDeleted: a credential was deleted as compromised, and
	// every token and grant of its app revoked with it.
	EventCredentialDeleted = "credential_deleted"
	// EventExpiredCredentialUsed: a client presented an expired secret
	// (refused like a wrong one); recorded at most once an hour per
	// credential and process.
	EventExpiredCredentialUsed = "expired_credential_used"
	EventTokenRevoked          = "token_revoked"
	EventAppCreated            = "app_created"
	EventAppUpdated            = "app_updated"
	EventAppDeleted            = "app_deleted"
	EventAppDisconnected       = "app_disconnected"
	EventScopeDeleted          = "scope_deleted"
	EventUserDeleted           = "user_deleted"
	// EventUserUpdated: an operator changed a user's account (whether the
	// user is a developer).
	EventUserUpdated     = "user_updated"
	EventPasswordChanged = "password_changed"
	// EventDeviceApproved and EventDeviceDenied: a user decided a device
	// authorization request on the verification page.
	EventDeviceApproved = "device_approved"
	EventDeviceDenied   = "device_denied"
	// EventDeviceCodeReplay: a device code was redeemed a second time; the
	// grant it opened was revoked.
	EventDeviceCodeReplay = "device_code_replay"
	// EventUserCodeThrottled: too many wrong user codes were entered (from
	// one address, by one user, or everywhere at once).
	EventUserCodeThrottled = "user_code_throttled"
)

// Actors of audit events: who did what the event records.
const (
	ActorOperator = "operator" // the gatehouse command line
	ActorApp      = "app"      // a client, authenticated or not
	ActorUser     = "user"     // a signed-in user, or a bearer of a user's token
	ActorServer   = "server"   // the server itself (reuse detection, the janitor)
)

// Event is an entry of the security audit log.
type Event struct {
	ID      int64
	Kind    string
	At      time.Time
	Actor   string // one of the Actor constants
	AppID   int64  // zero: none
	UserID  int64  // zero: none
	GrantID int64  // zero: none
	Address string // the source address of the request, empty when none
	// Detail is a JSON object of facts about the event (reason, counts,
	// credential id, how a token was revoked); never a secret.
	Detail string
}

// EventFilter selects audit events: those of one app (AppID, zero: any)
// recorded at or after Since (zero: any), the newest first, at most Limit.
type EventFilter struct {
	AppID int64
	Since time.Time
	Limit int
}
