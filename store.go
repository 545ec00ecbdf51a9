package gatehouse

import (
	"context"
	"errors"
	"time"
)

// Store errors. Backends return them (possibly wrapped) and callers check them
// with errors.Is; any other error is an unexpected failure of the backend.
var (
	// ErrNotFound: the record, or a record it refers to, does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a record with the same unique key exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrAlreadyUsed: a single-use record was consumed before.
	ErrAlreadyUsed = errors.New("already used")
	// ErrStale: the generation (see Store.Generation) is no longer the one
	// the caller read.
	ErrStale = errors.New("stale generation")
	// ErrUnavailable: the backend could not reach the database, or lost
	// its connection while a write may have committed (the outcome is
	// unknown). The request may be tried again later; a backend returns
	// it only after it has run again whatever it could safely run again.
	ErrUnavailable = errors.New("database unavailable")
	// ErrLimitReached: the record would exceed a limit (an app's
	// MaxCredentials).
	ErrLimitReached = errors.New("limit reached")
	// ErrInUse: the record cannot be deleted while other records refer
	// to it (a scope that an app lists).
	ErrInUse = errors.New("in use")
)

// Revoked counts what a revocation cascade revoked.
type Revoked struct {
	Tokens int64
	Grants int64
}

// Store persists the domain. It is dumb on purpose: it keeps records and makes
// each method atomic, and it leaves every OAuth rule (who may do what, which
// scopes, which cascade) to the oauth package, so that no backend can forget
// one. Every method is safe for concurrent use. Lists are returned in a stable
// order (by name for scopes, by ID otherwise). Times are stored with at least
// millisecond precision and come back in UTC; a zero time means "never"
// (not used, not revoked, no expiry), so a method that records an event
// (ConsumeCode, the Revoke methods, TouchCredential, TouchScopes) refuses a
// zero time with an error. Nil and empty lists are equivalent.
type Store interface {
	// Migrate brings the schema up to date. It is idempotent.
	Migrate(ctx context.Context) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error

	// CreateScope registers a scope. It returns ErrAlreadyExists if a scope of
	// that name exists.
	CreateScope(ctx context.Context, s Scope) error
	// GetScope returns the named scope, or ErrNotFound.
	GetScope(ctx context.Context, name string) (Scope, error)
	// ListScopes returns every scope, ordered by name.
	ListScopes(ctx context.Context) ([]Scope, error)
	// DeleteScope deletes the named scope. It returns ErrNotFound if no
	// scope has that name, and ErrInUse if an app lists it among its scopes
	// or default scopes; then nothing is deleted. Grants, codes and tokens
	// keep the scope's name as they were issued.
	DeleteScope(ctx context.Context, name string) error

	// CreateApp stores a new app with its redirect URIs, scopes, grant
	// types, owner and profile, and returns it with its ID set. It returns
	// ErrAlreadyExists if the client_id is taken, and ErrNotFound if one of
	// its scopes is not registered or its owner (a non-zero OwnerID) does
	// not exist; in both cases nothing is stored.
	CreateApp(ctx context.Context, a App) (App, error)
	// CreateAppWithCredential stores a new app as CreateApp does and, in the
	// same transaction, its first credential c (whose AppID it sets). It
	// returns the app with its ID set, and the errors of CreateApp and of
	// CreateCredential; on any error nothing is stored.
	CreateAppWithCredential(ctx context.Context, a App, c Credential) (App, error)
	// GetApp returns the app with the given client_id, or ErrNotFound.
	GetApp(ctx context.Context, clientID string) (App, error)
	// GetAppByID returns the app with the given ID, or ErrNotFound.
	GetAppByID(ctx context.Context, id int64) (App, error)
	// ListApps returns every app, ordered by ID.
	ListApps(ctx context.Context) ([]App, error)
	// ListAppsByOwner returns the apps whose OwnerID is ownerID, ordered
	// by ID; none for an unknown user or a zero ownerID (ownerless apps
	// belong to no one).
	ListAppsByOwner(ctx context.Context, ownerID int64) ([]App, error)
	// UpdateApp replaces, in one transaction, the name, the redirect URIs,
	// the scopes, the default scopes, the grant types, the resource server
	// flag, the owner and the profile (description, homepage, privacy and
	// terms URLs) of the app whose client_id is a.ClientID, and returns the
	// app as stored. Its ID, type and creation time stay as they are
	// (those of a are ignored). It returns ErrNotFound if no app has that
	// client_id, if one of its scopes is not registered or if its owner
	// does not exist; then nothing is changed. It changes the generation.
	UpdateApp(ctx context.Context, a App) (App, error)
	// DeleteApp deletes the app and, in the same transaction, everything that
	// belongs to it: credentials, codes, tokens, grants and consents. It
	// returns ErrNotFound if no app has that client_id.
	DeleteApp(ctx context.Context, clientID string) error

	// Generation returns a counter that changes whenever an app (with its
	// lists) or a credential is created, changed or deleted, by any process
	// sharing the database; a credential's last use does not change it.
	// Caches of apps and credentials are valid while it is unchanged.
	Generation(ctx context.Context) (int64, error)

	// CreateCredential stores a credential and returns it with its ID set. It
	// returns ErrNotFound if the app does not exist, ErrAlreadyExists if
	// the digest is taken, and ErrLimitReached if the app holds
	// MaxCredentials credentials unexpired at c.CreatedAt; of concurrent
	// creators, no more succeed than the limit allows.
	CreateCredential(ctx context.Context, c Credential) (Credential, error)
	// RotateCredential stores next (a credential of the app next.AppID) and,
	// in the same transaction, makes the credential old expire at expires
	// unless it expires earlier already. It returns ErrNotFound if old is
	// not a credential of that app, and the errors of CreateCredential (old
	// counts against the limit until it expires); on any error nothing
	// changes.
	RotateCredential(ctx context.Context, old int64, expires time.Time, next Credential) (Credential, error)
	// RevokeCredential deletes the credential and, in the same transaction,
	// marks every unrevoked token and grant of its app revoked at at (the
	// credential is compromised: DESIGN's revocation cascade). It returns
	// what it revoked, or ErrNotFound.
	RevokeCredential(ctx context.Context, id int64, at time.Time) (Revoked, error)
	// NoteExpiredCredentials marks at most limit credentials that expired
	// at or before now and were never noted as noted, and returns them
	// ordered by ID; of concurrent callers, each credential is returned to
	// exactly one, once. A limit below 1 is an error.
	NoteExpiredCredentials(ctx context.Context, now time.Time, limit int) ([]Credential, error)
	// GetCredentialByDigest returns the credential with that digest, or
	// ErrNotFound.
	GetCredentialByDigest(ctx context.Context, digest []byte) (Credential, error)
	// ListCredentials returns the credentials of an app, ordered by ID; none
	// for an unknown app.
	ListCredentials(ctx context.Context, appID int64) ([]Credential, error)
	// DeleteCredential deletes a credential, or returns ErrNotFound.
	DeleteCredential(ctx context.Context, id int64) error
	// TouchCredential sets the credential's last use to at, unless it is
	// already later. It returns ErrNotFound if the credential does not exist.
	TouchCredential(ctx context.Context, id int64, at time.Time) error

	// TouchScopes records that the app used each of scopes at at: a
	// scope's last use becomes at, unless it is already later. It is one
	// statement (or one transaction) however many scopes there are, and it
	// changes no app and not the generation. It returns ErrNotFound if the
	// app does not exist; no scopes is no write. The scopes need not be
	// registered, nor the app's.
	TouchScopes(ctx context.Context, appID int64, scopes []string, at time.Time) error
	// ListScopeUse returns the recorded last use of each scope of the app,
	// ordered by scope; none for an unknown app. Deleting the app deletes
	// them.
	ListScopeUse(ctx context.Context, appID int64) ([]ScopeUse, error)

	// CreateUser stores a user (with its developer flag) and returns it
	// with its ID set. It returns ErrAlreadyExists if the username is taken.
	CreateUser(ctx context.Context, u User) (User, error)
	// GetUser returns the user with that ID, or ErrNotFound.
	GetUser(ctx context.Context, id int64) (User, error)
	// GetUserByUsername returns the user with that username, or ErrNotFound.
	GetUserByUsername(ctx context.Context, username string) (User, error)
	// ListUsers returns every user, ordered by ID.
	ListUsers(ctx context.Context) ([]User, error)
	// SetPasswordHash replaces the user's password hash and, in the same
	// transaction, deletes every session and every device of the user, so
	// that no browser stays signed in or keeps the exemptions of a known
	// device. It returns ErrNotFound if the user does not exist.
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	// SetUserDeveloper sets whether the user is a developer. It returns
	// ErrNotFound if the user does not exist.
	SetUserDeveloper(ctx context.Context, userID int64, developer bool) error
	// DeleteUser deletes the user and, in the same transaction, everything
	// of the user: sessions, devices, consents, grants, and the codes and
	// tokens of those grants (and any other code or token naming the
	// user). The apps the user owned stay, without an owner (which
	// changes the generation). It returns ErrNotFound if the user does not
	// exist.
	DeleteUser(ctx context.Context, id int64) error

	// CreateGrant stores a grant and returns it with its ID set. It returns
	// ErrNotFound if the user or the app does not exist.
	CreateGrant(ctx context.Context, g Grant) (Grant, error)
	// GetGrant returns the grant with that ID, or ErrNotFound.
	GetGrant(ctx context.Context, id int64) (Grant, error)
	// ListGrants returns the grants of the user userID and of the app
	// appID, revoked ones included, ordered by ID; a zero ID matches any.
	ListGrants(ctx context.Context, userID, appID int64) ([]Grant, error)
	// LastTokenIssued returns when the newest token still stored in the
	// user's grants for the app was issued (the app's last sign-in or
	// refresh), or the zero time when there is none.
	LastTokenIssued(ctx context.Context, userID, appID int64) (time.Time, error)
	// RevokeGrant marks the grant and every token issued in it revoked at at,
	// in one transaction. Records revoked before keep their first revocation
	// time. It returns ErrNotFound if the grant does not exist.
	RevokeGrant(ctx context.Context, id int64, at time.Time) error

	// DisconnectApp revokes at at every unrevoked grant of the user for the
	// app with every token issued in them, and deletes the user's consent
	// for the app, in one transaction (DESIGN's cascade: "User disconnects
	// an app"). It returns what it revoked; a user with nothing to
	// disconnect is no error.
	DisconnectApp(ctx context.Context, userID, appID int64, at time.Time) (Revoked, error)

	// PutConsent creates or replaces the consent of a user for an app. It
	// returns ErrNotFound if the user or the app does not exist.
	PutConsent(ctx context.Context, c Consent) error
	// GetConsent returns the consent of a user for an app, or ErrNotFound.
	GetConsent(ctx context.Context, userID, appID int64) (Consent, error)
	// DeleteConsent deletes the consent of a user for an app, or returns
	// ErrNotFound.
	DeleteConsent(ctx context.Context, userID, appID int64) error

	// OpenGrant stores, in one transaction, the consent when it is not nil
	// (as PutConsent), the grant g and the code c of the grant (whose
	// GrantID it sets), and returns the grant with its ID set. It returns
	// the errors of PutConsent, CreateGrant and CreateCode; on any error
	// nothing is stored.
	OpenGrant(ctx context.Context, g Grant, c Code, consent *Consent) (Grant, error)

	// CreateCode stores an authorization code. It returns ErrAlreadyExists if
	// the digest is taken and ErrNotFound if the app, user or grant does not
	// exist.
	CreateCode(ctx context.Context, c Code) error
	// ConsumeCode marks the code used at at and returns it. It returns
	// ErrNotFound if the code does not exist, and ErrAlreadyUsed, together
	// with the code as stored, if it was consumed before: exactly one of many
	// concurrent callers succeeds. Expiry is the caller's rule, not the
	// store's.
	ConsumeCode(ctx context.Context, digest []byte, at time.Time) (Code, error)
	// RedeemCode is ConsumeCode that also stores next (the tokens issued
	// for the code) in the same transaction, so that a redemption is one
	// commit. An error storing next (as for CreateToken: a revoked grant is
	// ErrNotFound) changes nothing, and the code stays unused.
	RedeemCode(ctx context.Context, digest []byte, at time.Time, next []Token) (Code, error)
	// GetCode returns the code with that digest, used or not, or
	// ErrNotFound.
	GetCode(ctx context.Context, digest []byte) (Code, error)

	// CreateToken stores a token. It returns ErrAlreadyExists if the digest is
	// taken and ErrNotFound if its app (or user, or grant) does not exist or
	// its grant is revoked: no token is written into a dead grant, however
	// a revocation and the insert interleave.
	CreateToken(ctx context.Context, t Token) error
	// CreateTokenAt is CreateToken, provided the generation is still gen
	// when the token is written; otherwise it stores nothing and returns
	// ErrStale. A caller that authenticated a client from a cache valid at
	// gen thereby issues no token to a client whose app or credential
	// changed in between, and need not read the generation first.
	CreateTokenAt(ctx context.Context, t Token, gen int64) error
	// GetToken returns the token with that digest, or ErrNotFound. Revoked
	// and expired tokens are returned too, until they are deleted.
	GetToken(ctx context.Context, digest []byte) (Token, error)
	// GetTokenAt is GetToken that also returns the generation, read in the
	// same snapshot as the token; the generation is returned with
	// ErrNotFound too.
	GetTokenAt(ctx context.Context, digest []byte) (Token, int64, error)
	// RevokeToken marks the token revoked at at; a token revoked before keeps
	// its first revocation time. It returns ErrNotFound if no token has that
	// digest.
	RevokeToken(ctx context.Context, digest []byte, at time.Time) error
	// CountIdleRefreshTokens returns how many refresh tokens of the app are
	// live at now (not revoked, expiring after now), were never exchanged
	// (no use recorded) and were issued before issuedBefore.
	CountIdleRefreshTokens(ctx context.Context, appID int64, issuedBefore, now time.Time) (int64, error)
	// RevokeAppTokens marks every unrevoked token of the app revoked at at and
	// returns how many it revoked.
	RevokeAppTokens(ctx context.Context, appID int64, at time.Time) (int64, error)

	// RotateRefreshToken exchanges the refresh token old, in one transaction:
	// when retry is false, it marks old used at at, provided old is unused;
	// of many concurrent such exchanges of one token exactly one succeeds.
	// When retry is true, old must have been used before and no successor of
	// old (a refresh token whose Parent is old) may be used; the store then
	// revokes every successor of old (refresh and access) at at. In both
	// cases old and its grant must not be revoked, and the store then stores
	// next (the new tokens; the caller sets their Parent to old). It returns
	// ErrNotFound if old does not exist, and ErrAlreadyUsed, with old as
	// stored, when a condition does not hold; an error storing next (as for
	// CreateToken) changes nothing. Kind, expiry and client binding are the
	// caller's rules.
	RotateRefreshToken(ctx context.Context, old []byte, at time.Time, retry bool, next []Token) (Token, error)

	// CreateDeviceCode stores a device authorization request. It returns
	// ErrAlreadyExists if its digest or its user code is taken, and
	// ErrNotFound if its app does not exist.
	CreateDeviceCode(ctx context.Context, d DeviceCode) error
	// GetDeviceCode returns the request with that device code digest, or
	// ErrNotFound. Expired ones are returned too, until they are deleted.
	GetDeviceCode(ctx context.Context, digest []byte) (DeviceCode, error)
	// GetDeviceCodeByUserCode returns the request with that user code
	// digest, or ErrNotFound.
	GetDeviceCodeByUserCode(ctx context.Context, userCode []byte) (DeviceCode, error)
	// PollDeviceCode records a poll of the request at at and sets its
	// interval. It returns ErrNotFound if the request does not exist.
	PollDeviceCode(ctx context.Context, digest []byte, at time.Time, interval time.Duration) error
	// DecideDeviceCode records the decision of the user userID on the
	// request with that user code, at at, provided no decision was
	// recorded before: an approval (g not nil) stores the grant g in the
	// same transaction and links it; a denial (g nil) links none. It
	// returns the request as stored after the decision; ErrAlreadyUsed,
	// with the request as stored, if it was decided before (of concurrent
	// deciders exactly one succeeds); ErrNotFound if there is no such
	// request, or its user does not exist. Expiry is the caller's rule.
	DecideDeviceCode(ctx context.Context, userCode []byte, at time.Time, userID int64, g *Grant) (DeviceCode, error)
	// RedeemDeviceCode marks an approved, unused request used at at and
	// stores next (the tokens issued for it) in the same transaction. It
	// returns ErrNotFound if there is no such request, and ErrAlreadyUsed,
	// with the request as stored, if it is not approved or was used
	// before: of concurrent redeemers exactly one succeeds. An error
	// storing next (as for CreateToken: a revoked grant is ErrNotFound)
	// changes nothing.
	RedeemDeviceCode(ctx context.Context, digest []byte, at time.Time, next []Token) (DeviceCode, error)

	// CreateSession stores a login session. It returns ErrAlreadyExists if
	// the digest is taken and ErrNotFound if the user does not exist.
	CreateSession(ctx context.Context, s Session) error
	// OpenSession stores the session s and, when d is not nil, the device
	// d, in one transaction, provided their user exists and still has the
	// password hash passwordHash (the one the sign-in verified): a password
	// set (SetPasswordHash) or an account deleted while a sign-in was
	// checking the old password ends that sign-in with ErrNotFound, so that
	// no session outlives 'user set-password'. It returns ErrAlreadyExists
	// if a digest is taken; on any error nothing is stored.
	OpenSession(ctx context.Context, s Session, d *Device, passwordHash string) error
	// GetSession returns the session with that digest, or ErrNotFound.
	// Expired sessions are returned too, until they are deleted.
	GetSession(ctx context.Context, digest []byte) (Session, error)
	// DeleteSession deletes a session, or returns ErrNotFound.
	DeleteSession(ctx context.Context, digest []byte) error

	// CreateDevice stores a device (a browser its user signed in from). It
	// returns ErrAlreadyExists if the digest is taken and ErrNotFound if the
	// user does not exist.
	CreateDevice(ctx context.Context, d Device) error
	// GetDevice returns the device with that digest, or ErrNotFound.
	// Expired devices are returned too, until they are deleted.
	GetDevice(ctx context.Context, digest []byte) (Device, error)

	// RecordEvent appends an event to the audit log and returns it with its
	// ID set.
	RecordEvent(ctx context.Context, e Event) (Event, error)
	// ListEvents returns the events that f selects, the most recently
	// recorded first; a limit below 1 is an error.
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
	// DeleteEvents deletes at most limit events recorded before before, the
	// oldest first, and returns how many it deleted. A limit below 1 is an
	// error.
	DeleteEvents(ctx context.Context, before time.Time, limit int) (int, error)

	// TakeAttempt takes one attempt from the bucket of key (a digest) at
	// now, for a limit of burst attempts at once and one more every every
	// (a token bucket, kept as the time at which it is full again). Buckets
	// live in the database, so a limit holds across every process on it. It
	// reports whether the attempt was taken, and when not, how long until
	// one can be; of concurrent takers of one bucket, no more succeed than
	// it held. every must be positive and burst at least 1.
	TakeAttempt(ctx context.Context, key []byte, now time.Time, every time.Duration, burst int) (bool, time.Duration, error)
	// ReturnAttempt gives back one attempt taken from key's bucket (the
	// attempt succeeded, and only failures are to count). Giving back to a
	// bucket that does not exist does nothing.
	ReturnAttempt(ctx context.Context, key []byte, every time.Duration) error

	// DeleteExpired deletes, in one transaction, at most limit tokens, at
	// most limit codes, at most limit device codes, at most limit sessions, at most limit devices and at
	// most limit attempt buckets whose expiry (for a bucket: the time it is
	// full again) is at or before before, then the grants of the deleted
	// tokens, codes and device codes that none of them refers to any more, and returns
	// how many records it deleted. Callers repeat it until it returns fewer
	// than limit, so that no single transaction grows without bound. A limit
	// below 1 is an error.
	DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error)
}
