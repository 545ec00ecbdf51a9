package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/ratelimit"
	"github.com/gatehouse/gatehouse/secret"
)

// Default limits of failed client authentications (OAuth 2.1 §2.4.1). They
// are kept per address (an IPv6 client by its /64) and per client_id and
// address, never per client_id alone: anyone who knows a client_id could
// then lock its app out (DESIGN invariant 11).
var (
	// 10 a minute for one client_id from one address.
	DefaultPairLimit = ratelimit.Limit{Burst: 10, Every: 6 * time.Second}
	// 30 a minute from one address, whatever the client_id.
	DefaultAddrLimit = ratelimit.Limit{Burst: 30, Every: 2 * time.Second}
	// 100 at once, then 10 a second, introspections of well-formed tokens
	// that do not exist, per authenticated caller (INT-2.1-a).
	DefaultProbeLimit = ratelimit.Limit{Burst: 100, Every: 100 * time.Millisecond}
	// 30 at once, then 20 a minute, device authorization requests from
	// one address: a public app's client_id is public, and each request
	// is a row that lives until it expires.
	DefaultDeviceLimit = ratelimit.Limit{Burst: 30, Every: 3 * time.Second}
)

// API serves the protocol endpoints.
type API struct {
	OAuth   *oauth.Server
	Log     *slog.Logger
	Metrics *Metrics
	// PairLimit and AddrLimit throttle failed client authentications per
	// client_id and address, and per address.
	PairLimit *ratelimit.FailureLimiter
	AddrLimit *ratelimit.FailureLimiter
	// ProbeLimit throttles an authenticated caller that introspects
	// tokens that do not exist: a scan for tokens.
	ProbeLimit *ratelimit.FailureLimiter
	// DeviceLimit throttles device authorization requests per address; it
	// is kept in the store (oauth.AttemptLimit), so it holds across
	// instances. nil: none.
	DeviceLimit interface {
		Reserve(ctx context.Context, key string) (bool, time.Duration, error)
	}
	// Proxies are the trusted reverse proxies (X-Forwarded-For).
	Proxies ratelimit.Proxies
}

// NewAPI returns an API with the default limits.
func NewAPI(srv *oauth.Server, log *slog.Logger, m *Metrics, proxies ratelimit.Proxies) *API {
	return &API{
		OAuth: srv, Log: log, Metrics: m, Proxies: proxies,
		PairLimit:   ratelimit.New(DefaultPairLimit, nil),
		AddrLimit:   ratelimit.New(DefaultAddrLimit, nil),
		ProbeLimit:  ratelimit.New(DefaultProbeLimit, nil),
		DeviceLimit: srv.AttemptLimit("device-authorization-addr", DefaultDeviceLimit),
	}
}

// Mount registers the endpoints on mux. Each protocol endpoint answers
// every other method with a JSON 405, never with a page.
func (a *API) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /token", a.cors(a.token))
	mux.HandleFunc("POST /introspect", a.introspect)
	mux.HandleFunc("POST /revoke", a.cors(a.revoke))
	mux.HandleFunc("OPTIONS /token", a.cors(preflight))
	mux.HandleFunc("OPTIONS /revoke", a.cors(preflight))
	mux.HandleFunc("POST "+oauth.DeviceAuthorizationPath, a.deviceAuthorization)
	for _, p := range []string{"/token", "/introspect", "/revoke", oauth.DeviceAuthorizationPath} {
		mux.HandleFunc(p, methodNotAllowed("POST"))
	}
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", a.metadata)
	mux.HandleFunc("/.well-known/oauth-authorization-server", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("/whoami", a.whoami)
	mux.HandleFunc("POST "+RevokedAccessTokensPath, a.revokedAccessTokens)
	mux.HandleFunc(RevokedAccessTokensPath, methodNotAllowed("POST"))
}

func (a *API) token(w http.ResponseWriter, r *http.Request) {
	f, ca, ok := a.authRequest(w, r)
	if !ok {
		return
	}
	req := oauth.TokenRequest{Client: ca, GrantType: f["grant_type"], Scope: f["scope"], Params: f}
	resp, err := a.OAuth.Token(r.Context(), req)
	if a.settle(w, r, ca, err) {
		return
	}
	a.Metrics.TokensIssued.WithLabelValues(req.GrantType).Inc()
	writeJSON(w, http.StatusOK, resp)
}

// deviceAuthorization serves RFC 8628 §3.1: the client authenticates as at
// the token endpoint, under the same failure limits.
func (a *API) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	f, ca, ok := a.authRequest(w, r)
	if !ok {
		return
	}
	if a.DeviceLimit != nil {
		ok, wait, err := a.DeviceLimit.Reserve(r.Context(), a.Proxies.Caller(r).Key)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if !ok {
			a.Metrics.RateLimited.WithLabelValues("device_authorization").Inc()
			secs := int(wait/time.Second) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeJSONError(w, &oauth.Error{Code: oauth.CodeSlowDown, Status: http.StatusTooManyRequests,
				Description: "too many device authorization requests from this address; retry after " + strconv.Itoa(secs) + " seconds"})
			return
		}
	}
	resp, err := a.OAuth.AuthorizeDevice(r.Context(), ca, f["scope"])
	if a.settle(w, r, ca, err) {
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *API) introspect(w http.ResponseWriter, r *http.Request) {
	f, ca, ok := a.authRequest(w, r)
	if !ok {
		return
	}
	resp, err := a.OAuth.Introspect(r.Context(), ca, f["token"])
	if a.settle(w, r, ca, err) {
		return
	}
	if resp.Probe && !a.allowProbe(w, r, ca) {
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// allowProbe counts an introspection of a token that does not exist
// against its authenticated caller, and refuses it with 429 when the
// caller sent too many: a scan for tokens (INT-2.1-a; RFC 7662 §4). Only
// such answers are refused: the caller's introspections of real tokens go
// on, so an attacker who makes an API introspect made-up tokens cannot
// stop it from checking real ones.
func (a *API) allowProbe(w http.ResponseWriter, r *http.Request, ca oauth.ClientAuth) bool {
	ok, wait := a.ProbeLimit.Allow(ca.ClientID)
	if a.ProbeLimit.Fail(ca.ClientID) {
		a.OAuth.RecordClientEvent(r.Context(), ca.ClientID, gatehouse.Event{Kind: gatehouse.EventIntrospectionThrottled, Actor: gatehouse.ActorApp,
			Detail: oauth.Detail{"client_id": LoggableClientID(ca.ClientID),
				"message": "the client introspected too many tokens that do not exist; such introspections are refused until the limit refills"}.String()})
	}
	if ok {
		return true
	}
	a.Metrics.RateLimited.WithLabelValues("introspection_probe").Inc()
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSONError(w, &oauth.Error{Code: oauth.CodeInvalidRequest, Status: http.StatusTooManyRequests,
		Description: "too many introspections of tokens that do not exist; retry after " + strconv.Itoa(secs) + " seconds"})
	return false
}

func (a *API) revoke(w http.ResponseWriter, r *http.Request) {
	f, ca, ok := a.authRequest(w, r)
	if !ok {
		return
	}
	if a.settle(w, r, ca, a.OAuth.Revoke(r.Context(), ca, f["token"])) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// authRequest parses the form and the client authentication, and refuses
// with 429 an attempt from an address (or a client_id from an address) that
// failed too often. The handler then calls settle.
func (a *API) authRequest(w http.ResponseWriter, r *http.Request) (Form, oauth.ClientAuth, bool) {
	f, err := ParseForm(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return nil, oauth.ClientAuth{}, false
	}
	ca, err := clientAuth(r, f)
	var af *oauth.AuthFailure
	if err != nil && !errors.As(err, &af) {
		a.writeError(w, r, err)
		return nil, oauth.ClientAuth{}, false
	}
	if !a.allow(w, r, ca) {
		return nil, oauth.ClientAuth{}, false
	}
	if err != nil {
		a.settle(w, r, ca, err) // a malformed credential is a failed attempt
		return nil, oauth.ClientAuth{}, false
	}
	return f, ca, true
}

type limit struct {
	name    string
	limiter *ratelimit.FailureLimiter
	key     string
}

// limits are the failure limits of a request: its client_id from its
// address, and its address. The client_id is cut short to bound the memory
// an invented one costs.
func (a *API) limits(r *http.Request, ca oauth.ClientAuth) []limit {
	addr := a.Proxies.Caller(r).Key
	client := ca.ClientID
	if len(client) > 80 {
		client = client[:80]
	}
	return []limit{{"client_address", a.PairLimit, client + "|" + addr}, {"address", a.AddrLimit, addr}}
}

// allow refuses an attempt from an address that failed too often (OAuth
// 2.1 §2.4.1): while it is throttled, every attempt from it is refused,
// right or wrong, so that a guesser cannot test its next guess for free;
// and each refused attempt counts as a failure too, so that an address
// that keeps trying stays throttled. Nothing is reserved up front: clients
// legitimately send many concurrent requests, and a burst of a few extra
// guesses at a 256-bit secret is harmless. Logins, which guard passwords,
// reserve (web/). The limits are per address, so that failures from
// elsewhere never refuse a client presenting valid credentials.
func (a *API) allow(w http.ResponseWriter, r *http.Request, ca oauth.ClientAuth) bool {
	ls := a.limits(r, ca)
	for _, l := range ls {
		ok, wait := l.limiter.Allow(l.key)
		if ok {
			continue
		}
		for _, l := range ls {
			l.limiter.Fail(l.key)
		}
		a.Metrics.RateLimited.WithLabelValues(l.name).Inc()
		a.Log.WarnContext(r.Context(), "client authentication throttled", "key", l.name, "client_id", LoggableClientID(ca.ClientID), "remote", a.Proxies.ClientIP(r))
		secs := int(wait/time.Second) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		// RFC 6749 §5.2 has no throttling code; invalid_client is what the
		// attempt is refused as, and 429 with Retry-After says for how long
		// (RFC 6585 §4). slow_down is the device flow's (RFC 8628 §3.5).
		writeJSONError(w, &oauth.Error{Code: oauth.CodeInvalidClient, Status: http.StatusTooManyRequests,
			Description: "too many failed client authentications from this address; retry after " + strconv.Itoa(secs) + " seconds"})
		return false
	}
	return true
}

// settle ends an attempt: a failed client authentication counts against
// every limit, unless it was no guess at a secret (a public app that
// presented one). It writes err, if any, and reports whether it did.
func (a *API) settle(w http.ResponseWriter, r *http.Request, ca oauth.ClientAuth, err error) bool {
	var af *oauth.AuthFailure
	if !errors.As(err, &af) {
		if err != nil {
			a.writeError(w, r, err)
		}
		return err != nil
	}
	if !af.NotAGuess {
		for _, l := range a.limits(r, ca) {
			if l.limiter.Fail(l.key) {
				a.throttled(r, ca, l.name)
			}
		}
	}
	a.Metrics.AuthFailures.WithLabelValues(r.URL.Path).Inc()
	a.Log.WarnContext(r.Context(), "client authentication failed", "client_id", LoggableClientID(ca.ClientID), "method", ca.Method, "reason", af.Reason, "remote", a.Proxies.ClientIP(r))
	w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse", charset="UTF-8"`)
	a.writeError(w, r, err)
	return true
}

// throttled records, once per time a limit runs out, that an address is
// throttled: an alert for the operator (gatehouse audit log), not a line per
// refused request.
func (a *API) throttled(r *http.Request, ca oauth.ClientAuth, name string) {
	d := oauth.Detail{"limit": name, "message": "too many failed client authentications from one address; its attempts are refused until the limit refills"}
	if name == "client_address" {
		d["client_id"] = LoggableClientID(ca.ClientID)
	}
	clientID := ""
	if name == "client_address" {
		clientID = ca.ClientID
	}
	a.OAuth.RecordClientEvent(r.Context(), clientID, gatehouse.Event{Kind: gatehouse.EventClientThrottled, Actor: gatehouse.ActorApp, Detail: d.String()})
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := oauth.AsError(err)
	switch {
	case ok:
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away: nobody reads the answer, nothing failed.
		a.Log.InfoContext(r.Context(), "request cancelled by the client", "path", r.URL.Path)
	default:
		a.Log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	}
	writeJSONError(w, e)
}

func (a *API) metadata(w http.ResponseWriter, r *http.Request) {
	md, err := a.OAuth.Metadata(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, md)
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	if err := a.OAuth.Store().Ping(r.Context()); err != nil {
		a.Log.ErrorContext(r.Context(), "health check failed", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// cors lets public browser apps call an endpoint from the origin of one of
// their registered redirect URIs (browser-based apps draft §6.3.3.4): that
// origin, and no other, is echoed; credentials are never allowed.
func (a *API) cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Add("Vary", "Origin")
			ok, err := a.OAuth.AllowedOrigin(r.Context(), origin)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			if ok {
				w.Header().Set("Access-Control-Allow-Origin", origin)
			}
		}
		next(w, r)
	}
}

func preflight(w http.ResponseWriter, r *http.Request) {
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, DPoP")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSONError(w, &oauth.Error{Code: oauth.CodeInvalidRequest, Description: "method " + r.Method + " is not allowed here; use " + allow, Status: http.StatusMethodNotAllowed})
	}
}

var serverError = oauth.Errorf(oauth.CodeServerError, "the server could not complete the request")

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeJSONError(w http.ResponseWriter, e *oauth.Error) {
	if e.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.Status, errorBody{Error: e.Code, Description: e.SafeDescription()})
}

// writeJSON writes v with the headers every protocol response carries
// (RFC 6749 §5.1: no caching of anything that may hold a token).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	if cc := h.Get("Cache-Control"); cc == "" || cc == "no-store" {
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// LoggableClientID returns a client_id fit for a log line: a value shaped
// like a secret (a client that swapped client_id and client_secret), or
// anything but a plausible client_id, is redacted (DESIGN invariant 8).
func LoggableClientID(id string) string {
	if _, err := secret.Parse(id); err == nil || strings.HasPrefix(id, "gth_") {
		return "[redacted: secret-shaped]"
	}
	if len(id) > 64 {
		return "[redacted: too long]"
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return "[redacted: unprintable]"
		}
	}
	return id
}
