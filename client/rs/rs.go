package rs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// Validator checks access tokens by introspection at one authorization
// server, as one resource server. It is safe for concurrent use.
type Validator struct {
	endpoint string
	issuer   string
	clientID string
	secret   client.Secret
	hc       *http.Client
	realm    string
	log      *slog.Logger
	now      func() time.Time
	timeout  time.Duration
	cache    *cache   // nil: every request is introspected
	audience []string // nil: no aud is required
}

// Option changes how a Validator works.
type Option func(*Validator)

// WithCache keeps active introspection results for at most maxAge, and
// never past the token's expiry, for at most maxEntries tokens (the least
// recently used go first). maxAge is the documented delay before a
// revocation is seen: a revoked token may be accepted for up to maxAge.
// Inactive results are never cached. Off by default.
func WithCache(maxAge time.Duration, maxEntries int) Option {
	return func(v *Validator) { v.cache = newCache(maxAge, maxEntries) }
}

// WithAudience requires the introspection answer's "aud" (a string or an
// array of strings, RFC 7662 §2.2) to contain one of aud: an answer
// without aud, or naming only other audiences, is refused as
// ErrInvalidToken. Use it with a server that binds tokens to an audience
// and says so in its answer. Gatehouse does not return aud yet (see the
// package documentation, Audience).
func WithAudience(aud ...string) Option {
	return func(v *Validator) {
		if v.audience == nil {
			v.audience = []string{} // set, even empty: New refuses that
		}
		v.audience = append(v.audience, aud...)
	}
}

// WithRealm sets the realm of the WWW-Authenticate challenges (RFC 6750
// §3); the default is "api".
func WithRealm(realm string) Option {
	return func(v *Validator) { v.realm = realm }
}

// WithLogger sets where failures to introspect are logged; the default is
// slog.Default(). The token is never logged.
func WithLogger(l *slog.Logger) Option {
	return func(v *Validator) { v.log = l }
}

// WithHTTPClient makes introspection requests with c instead of the
// Provider's HTTPClient.
func WithHTTPClient(c *http.Client) Option {
	return func(v *Validator) { v.hc = c }
}

// WithTimeout bounds each introspection request; the default is 10 s. A
// request that takes longer is answered 503.
func WithTimeout(d time.Duration) Option {
	return func(v *Validator) { v.timeout = d }
}

// WithClock makes the Validator read the time from now, for tests of
// expiry and of the cache without sleeping.
func WithClock(now func() time.Time) Option {
	return func(v *Validator) { v.now = now }
}

// New returns a Validator that introspects at provider's introspection
// endpoint as the resource server clientID, authenticated with secret
// (typically client.SecretFromEnv). In Gatehouse the resource server is an
// app created with --resource-server.
func New(provider *client.Provider, clientID string, secret client.Secret, opts ...Option) (*Validator, error) {
	if provider == nil {
		return nil, errors.New("rs: no provider")
	}
	v := &Validator{
		endpoint: provider.IntrospectionEndpoint, issuer: provider.Issuer,
		clientID: clientID, secret: secret, hc: provider.HTTPClient,
		realm: "api", log: slog.Default(), now: time.Now, timeout: 10 * time.Second,
	}
	for _, o := range opts {
		o(v)
	}
	var errs []error
	if v.endpoint == "" {
		errs = append(errs, fmt.Errorf("rs: the provider %s advertises no introspection_endpoint", provider.Issuer))
	} else if err := client.CheckEndpointURL(v.endpoint); err != nil {
		// The secret and the bearer token go only over TLS (OAuth 2.1 §7.1.3.2).
		errs = append(errs, fmt.Errorf("rs: %w", err))
	}
	if clientID == "" {
		errs = append(errs, errors.New("rs: the resource server's client id is empty"))
	}
	if secret.IsZero() {
		errs = append(errs, errors.New("rs: the resource server's client secret is empty"))
	}
	if v.cache != nil && (v.cache.maxAge <= 0 || v.cache.maxEntries <= 0) {
		errs = append(errs, errors.New("rs: WithCache needs a positive maximum age and number of entries"))
	}
	if v.audience != nil && (len(v.audience) == 0 || slices.Contains(v.audience, "")) {
		errs = append(errs, errors.New("rs: WithAudience needs non-empty audiences"))
	}
	if v.timeout <= 0 {
		errs = append(errs, errors.New("rs: WithTimeout needs a positive duration"))
	}
	v.hc = noRedirects(v.hc)
	if v.log == nil {
		v.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return v, nil
}

// noRedirects returns a copy of hc (or of a client with a 30 s timeout)
// that does not follow redirects: a 307 or 308 would re-post the token,
// and the resource server's credentials, to wherever it points. A 3xx is
// then an answer that is not 200: the token could not be checked (503).
func noRedirects(hc *http.Client) *http.Client {
	c := http.Client{Timeout: 30 * time.Second}
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Info is what the authorization server said of an active access token.
type Info struct {
	// Subject is the user the token acts for ("sub"); it is empty for a
	// client credentials token, which acts for its app alone.
	Subject string
	// Username is the user's name, when the server tells it.
	Username string
	// ClientID is the app the token was issued to.
	ClientID string
	// Scopes are the token's scopes.
	Scopes []string
	// ExpiresAt is when the token expires; zero if the server did not say.
	ExpiresAt time.Time
	// IssuedAt is when the token was issued; zero if the server did not say.
	IssuedAt time.Time
}

// HasScope reports whether the token carries scope.
func (i Info) HasScope(scope string) bool { return slices.Contains(i.Scopes, scope) }

type ctxKey struct{}

type ctxValue struct {
	v    *Validator
	info Info
}

// FromContext returns the Info of the token the middleware accepted for
// the request whose context is ctx, and false outside the middleware.
func FromContext(ctx context.Context) (Info, bool) {
	cv, ok := ctx.Value(ctxKey{}).(ctxValue)
	if !ok {
		return Info{}, false
	}
	return cv.info.clone(), true
}

func (i Info) clone() Info {
	i.Scopes = slices.Clone(i.Scopes)
	return i
}

// ErrInvalidToken is the error of Validate for a token the server does
// not call active: unknown, revoked, expired, malformed or not meant for
// this resource server.
var ErrInvalidToken = errors.New("rs: the access token is not active")

// ErrUnavailable is the error of Validate when the server could not tell
// (it is down, refused the resource server's credentials, or answered
// something that is not an introspection response). The token must not be
// accepted.
var ErrUnavailable = errors.New("rs: the token could not be introspected")

// Validate checks token, from the cache when it is on, and returns its
// Info. Its error wraps ErrInvalidToken or ErrUnavailable, and never
// contains the token. The middleware calls it; call it directly for
// tokens that do not come over HTTP.
func (v *Validator) Validate(ctx context.Context, token string) (Info, error) {
	if !wellFormed(token) {
		return Info{}, fmt.Errorf("%w: it is not an RFC 6750 bearer token", ErrInvalidToken)
	}
	key := cacheKey(token)
	now := v.now()
	if info, ok := v.cache.get(key, now); ok {
		return info, nil
	}
	info, err := v.introspect(ctx, token)
	if err != nil {
		return Info{}, withoutToken(err, token)
	}
	v.cache.put(key, info, now) // aged from before the question, to be safe
	return info.clone(), nil
}

// wellFormed reports whether token is an RFC 6750 §2.1 b64token of
// reasonable length; anything else is not sent to the server.
func wellFormed(token string) bool {
	if token == "" || len(token) > 4096 {
		return false
	}
	i := 0
	for ; i < len(token); i++ {
		c := token[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(token); i++ {
		if token[i] != '=' {
			return false
		}
	}
	return true
}

// withoutToken keeps an error that names the token (a server that echoes
// it in an error description) from carrying it any further.
func withoutToken(err error, token string) error {
	if !strings.Contains(err.Error(), token) {
		return err
	}
	base := ErrUnavailable
	if errors.Is(err, ErrInvalidToken) {
		base = ErrInvalidToken
	}
	return fmt.Errorf("%w (details dropped: they contained the token)", base)
}
