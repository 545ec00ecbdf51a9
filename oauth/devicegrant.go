package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/secret"
)

// The device authorization grant (RFC 8628): an app on a device without a
// browser (a TV, a CLI over SSH) asks for a device code and a user code;
// its user enters the user code on the verification page, signed in, sees
// which app asks for which scopes and approves or denies; meanwhile the
// app polls the token endpoint with the device code.
const (
	// DeviceAuthorizationPath is the device authorization endpoint
	// (RFC 8628 §3.1); DevicePath the verification page (§3.3).
	DeviceAuthorizationPath = "/device_authorization"
	DevicePath              = "/device"
	// DefaultDeviceCodeTTL is how long a user has to enter the user code.
	DefaultDeviceCodeTTL = 10 * time.Minute
	// DefaultDeviceInterval is the polling interval the app is told.
	DefaultDeviceInterval = 5 * time.Second
	// slowDownStep is what a slow_down adds to the interval (RFC 8628
	// §3.5: 5 seconds, for this and every later request).
	slowDownStep = 5 * time.Second
	// maxDeviceInterval bounds the interval however often an app is
	// told to slow down.
	maxDeviceInterval = time.Minute
)

// UserCodeAlphabet is the alphabet of user codes (RFC 8628 §6.1): 20
// consonants, upper case, with no vowel (no words) and none of the
// letters mistaken for digits or each other (no I, O, U, Y).
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLength is how many letters a user code has: 20^8 ≈ 2^34.6
// codes, shown as XXXX-XXXX. With the verification page's limits (at most
// 10 wrong codes a second across the whole server, after a burst of 600),
// an attacker gets at most 6,600 guesses in a code's 10 minutes: with
// 1,000 codes waiting at once, a 1 in 3,900 chance of hitting any of
// them, and hitting one shows the attacker only a request that its user
// must still approve. docs/device.md has the arithmetic.
const UserCodeLength = 8

// Protocol errors of the device grant (RFC 8628 §3.5).
const (
	CodeAuthorizationPending = "authorization_pending"
	CodeExpiredToken         = "expired_token"
)

// ErrUserCode: the user code is unknown, expired or already decided. The
// verification page says the same for each, so that it tells a guesser
// nothing.
var ErrUserCode = errors.New("the code is not valid: it may have expired or been used; start again on the device")

// DeviceAuthorization is the device authorization response (RFC 8628
// §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// normalizeGrants spells the device grant's short name (device_code) as
// its URN, so that operators need not type it.
func normalizeGrants(grants []string) []string {
	if grants == nil {
		return nil
	}
	out := make([]string, len(grants))
	for i, g := range grants {
		if g == "device_code" {
			g = gatehouse.GrantDeviceCode
		}
		out[i] = g
	}
	return out
}

// AuthorizeDevice serves the device authorization endpoint (RFC 8628
// §3.1–3.2): it authenticates the client as the token endpoint does
// (§3.1: a confidential app with its secret, a public one by client_id),
// requires that the app is registered for the device grant, and stores a
// new request for the scopes asked (or the app's defaults).
func (s *Server) AuthorizeDevice(ctx context.Context, ca ClientAuth, scope string) (DeviceAuthorization, error) {
	c, err := s.AuthenticateClient(ctx, ca)
	if err != nil {
		return DeviceAuthorization{}, err
	}
	if !c.App.AllowsGrant(gatehouse.GrantDeviceCode) {
		return DeviceAuthorization{}, Errorf(CodeUnauthorizedClient, "the app is not registered for the device authorization grant")
	}
	requested, err := ParseScope(scope)
	if err != nil {
		return DeviceAuthorization{}, err
	}
	scopes, err := grantScopes(requested, c.App.Scopes, c.App.DefaultScopes)
	if err != nil {
		return DeviceAuthorization{}, err
	}
	now := s.clock()
	for range 3 {
		code, user := secret.New(secret.DeviceCode), newUserCode()
		err = s.store.CreateDeviceCode(ctx, gatehouse.DeviceCode{
			Digest: s.digest.Digest(code), UserCode: s.userCodeDigest(user), AppID: c.App.ID, Scopes: scopes,
			CreatedAt: now, ExpiresAt: now.Add(s.cfg.DeviceCodeTTL), Interval: s.cfg.DeviceInterval,
		})
		if errors.Is(err, gatehouse.ErrAlreadyExists) {
			continue // a user code still stored: draw another
		}
		if err != nil {
			return DeviceAuthorization{}, fmt.Errorf("device authorization: %w", err)
		}
		shown := FormatUserCode(user)
		return DeviceAuthorization{
			DeviceCode: code, UserCode: shown,
			VerificationURI:         s.cfg.Issuer + DevicePath,
			VerificationURIComplete: s.cfg.Issuer + DevicePath + "?user_code=" + shown,
			ExpiresIn:               int64(s.cfg.DeviceCodeTTL.Seconds()),
			Interval:                int64(s.cfg.DeviceInterval.Seconds()),
		}, nil
	}
	return DeviceAuthorization{}, fmt.Errorf("device authorization: no free user code in 3 draws: %w", err)
}

// newUserCode draws UserCodeLength letters of UserCodeAlphabet, each
// uniformly (crypto/rand.Int rejects the biased draws).
func newUserCode() string {
	n := big.NewInt(int64(len(UserCodeAlphabet)))
	b := make([]byte, UserCodeLength)
	for i := range b {
		v, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // as crypto/rand.Read does since Go 1.24
		}
		b[i] = UserCodeAlphabet[v.Int64()]
	}
	return string(b)
}

// FormatUserCode writes a normalized user code as users read it: XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) != UserCodeLength {
		return code
	}
	return code[:UserCodeLength/2] + "-" + code[UserCodeLength/2:]
}

// NormalizeUserCode reads a user code as a user may type it — any case,
// with or without the dash or spaces — and reports whether it can be one
// (UserCodeLength letters of UserCodeAlphabet). Anything else is no code
// at all, and is refused without a lookup.
func NormalizeUserCode(typed string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ':
		case r < 0x80 && strings.IndexByte(UserCodeAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return "", false
		}
		if b.Len() > UserCodeLength {
			return "", false
		}
	}
	return b.String(), b.Len() == UserCodeLength
}

func (s *Server) userCodeDigest(normalized string) []byte {
	return s.digest.Digest("user code\x00" + normalized)
}

// PendingDevice is a device authorization request waiting for its user's
// decision, as the verification page shows it.
type PendingDevice struct {
	App      gatehouse.App
	Scopes   []string
	UserCode string // normalized
	Expires  time.Time
}

// PendingDevice looks up a normalized user code: a request that is
// stored, unexpired and undecided, or ErrUserCode. The caller limits the
// guesses.
func (s *Server) PendingDevice(ctx context.Context, userCode string) (PendingDevice, error) {
	d, err := s.store.GetDeviceCodeByUserCode(ctx, s.userCodeDigest(userCode))
	if errors.Is(err, gatehouse.ErrNotFound) {
		return PendingDevice{}, ErrUserCode
	}
	if err != nil {
		return PendingDevice{}, fmt.Errorf("look up user code: %w", err)
	}
	if d.Decided() || !s.clock().Before(d.ExpiresAt) {
		return PendingDevice{}, ErrUserCode
	}
	app, err := s.store.GetAppByID(ctx, d.AppID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return PendingDevice{}, ErrUserCode
	}
	if err != nil {
		return PendingDevice{}, fmt.Errorf("look up user code: %w", err)
	}
	return PendingDevice{App: app, Scopes: d.Scopes, UserCode: userCode, Expires: d.ExpiresAt}, nil
}

// DecideDevice records the signed-in user's decision on the request of a
// normalized user code: an approval opens a grant of the request's scopes
// for the app; a denial makes the app's next poll access_denied. It
// returns ErrUserCode when the request is not pending any more (decided
// in another tab, expired). Both are audited.
func (s *Server) DecideDevice(ctx context.Context, userID int64, userCode string, approve bool) (gatehouse.App, error) {
	p, err := s.PendingDevice(ctx, userCode)
	if err != nil {
		return gatehouse.App{}, err
	}
	now := s.clock()
	var g *gatehouse.Grant
	if approve {
		g = &gatehouse.Grant{UserID: userID, AppID: p.App.ID, Scopes: p.Scopes, CreatedAt: now}
	}
	d, err := s.store.DecideDeviceCode(ctx, s.userCodeDigest(userCode), now, userID, g)
	if errors.Is(err, gatehouse.ErrAlreadyUsed) || errors.Is(err, gatehouse.ErrNotFound) {
		return gatehouse.App{}, ErrUserCode
	}
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("decide device request: %w", err)
	}
	kind, msg := gatehouse.EventDeviceDenied, "the user denied a device authorization request"
	if approve {
		kind, msg = gatehouse.EventDeviceApproved, "the user approved a device authorization request"
	}
	s.event(WithActor(ctx, gatehouse.ActorUser), gatehouse.Event{Kind: kind, At: now, AppID: p.App.ID, UserID: userID, GrantID: d.GrantID,
		Detail: Detail{"message": msg, "scopes": p.Scopes}.String()})
	return p.App, nil
}

var errBadDeviceCode = Errorf(CodeInvalidGrant, "the device code is invalid or was used")

// deviceCode serves the token request of the device grant (RFC 8628
// §3.4–3.5): authorization_pending until the user decides, slow_down to
// an app polling faster than its interval (which grows by 5 s),
// access_denied after a denial, expired_token after the code's lifetime,
// and the tokens once, for an approval. A second redemption is a replay:
// the device code leaked, and the grant it opened is revoked (as for
// authorization codes, RFC 9700 §4.2.4).
func (s *Server) deviceCode(ctx context.Context, c Client, req TokenRequest) (TokenResponse, error) {
	raw := req.Params["device_code"]
	if raw == "" {
		return TokenResponse{}, Errorf(CodeInvalidRequest, "device_code is required")
	}
	if k, err := secret.Parse(raw); err != nil || k != secret.DeviceCode {
		return TokenResponse{}, errBadDeviceCode
	}
	digest := s.digest.Digest(raw)
	d, err := s.store.GetDeviceCode(ctx, digest)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return TokenResponse{}, errBadDeviceCode
	}
	if err != nil {
		return TokenResponse{}, fmt.Errorf("device code: %w", err)
	}
	if d.AppID != c.App.ID {
		// Another app's code: refused as unknown, and not burnt.
		return TokenResponse{}, errBadDeviceCode
	}
	if !d.UsedAt.IsZero() {
		return TokenResponse{}, s.deviceCodeReplayed(ctx, d)
	}
	now := s.clock()
	if !now.Before(d.ExpiresAt) {
		return TokenResponse{}, Errorf(CodeExpiredToken, "the device code expired; start again")
	}
	if err := s.pace(ctx, d, now); err != nil {
		return TokenResponse{}, err
	}
	switch {
	case !d.Decided():
		return TokenResponse{}, Errorf(CodeAuthorizationPending, "the user has not yet approved the request")
	case !d.Approved():
		return TokenResponse{}, Errorf(CodeAccessDenied, "the user denied the request")
	}
	g, err := s.store.GetGrant(ctx, d.GrantID)
	if errors.Is(err, gatehouse.ErrNotFound) {
		return TokenResponse{}, errBadDeviceCode
	}
	if err != nil {
		return TokenResponse{}, fmt.Errorf("device code: %w", err)
	}
	if !g.RevokedAt.IsZero() {
		return TokenResponse{}, errBadDeviceCode
	}
	resp, tokens := s.userTokens(c.App, g, d.Scopes)
	d, err = s.store.RedeemDeviceCode(ctx, digest, now, tokens)
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		return TokenResponse{}, errBadDeviceCode // its grant was revoked meanwhile
	case errors.Is(err, gatehouse.ErrAlreadyUsed):
		return TokenResponse{}, s.deviceCodeReplayed(ctx, d) // a concurrent redemption won
	case err != nil:
		return TokenResponse{}, fmt.Errorf("device code: %w", err)
	}
	s.usedScopes(ctx, c.App, d.Scopes)
	return resp, nil
}

// pace records the poll and answers slow_down to one that came sooner
// than the interval allows, with the interval 5 s longer (RFC 8628 §3.5).
// A poll is early when it comes before four fifths of the interval: an
// app that waits the interval from each request's start (x/oauth2's
// ticker) sends the next one a little early when the last one was slow,
// and is not to be punished for it.
func (s *Server) pace(ctx context.Context, d gatehouse.DeviceCode, now time.Time) error {
	early := !d.PolledAt.IsZero() && now.Sub(d.PolledAt) < d.Interval*4/5
	interval := d.Interval
	if early {
		interval = min(interval+slowDownStep, maxDeviceInterval)
	}
	if err := s.store.PollDeviceCode(ctx, d.Digest, now, interval); err != nil {
		return fmt.Errorf("device code: %w", err)
	}
	if early {
		return Errorf(CodeSlowDown, fmt.Sprintf("polling too often: wait %d seconds between requests", int(interval.Seconds())))
	}
	return nil
}

func (s *Server) deviceCodeReplayed(ctx context.Context, d gatehouse.DeviceCode) error {
	now := s.clock()
	if err := s.store.RevokeGrant(ctx, d.GrantID, now); err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return fmt.Errorf("revoke replayed device code's grant: %w", err)
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventDeviceCodeReplay, At: now, AppID: d.AppID, UserID: d.UserID, GrantID: d.GrantID,
		Detail: "a device code was redeemed twice; its grant was revoked"})
	return errBadDeviceCode
}

// UserCodeThrottled records that a limit of the verification page (limit
// names it: address, user, global) refused a user code for key, for wait
// more, once per lockout and process.
func (s *Server) UserCodeThrottled(ctx context.Context, limit, key string, userID int64, wait time.Duration) {
	now := s.clock()
	id := "user code\x00" + limit + "\x00" + string(s.digest.Digest("lockout\x00"+key))
	if !s.lockouts.due(id, now, wait) {
		return
	}
	s.event(ctx, gatehouse.Event{Kind: gatehouse.EventUserCodeThrottled, At: now, Actor: gatehouse.ActorServer, UserID: userID,
		Detail: Detail{"limit": limit, "retry_after_seconds": int64(wait/time.Second) + 1,
			"message": "too many wrong device user codes; entries are refused until the limit refills"}.String()})
}
