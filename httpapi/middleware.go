package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/ratelimit"
)

type ctxKey int

const requestIDKey ctxKey = 0

// RequestID returns the id of the request that ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// LogHandler wraps a slog.Handler and adds the request id of the context to
// every record logged with a …Context call.
type LogHandler struct{ slog.Handler }

// Handle adds request_id.
func (h LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper.
func (h LogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return LogHandler{h.Handler.WithAttrs(as)}
}

// WithGroup keeps the wrapper.
func (h LogHandler) WithGroup(name string) slog.Handler { return LogHandler{h.Handler.WithGroup(name)} }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// RequestTimeout bounds the work of one request (the server's
// WriteTimeout is 30 s).
const RequestTimeout = 20 * time.Second

// Instrument gives each request an id and a deadline (RequestTimeout),
// recovers from panics with a bare server_error, logs one access line and
// records metrics. The access line holds the path only: a query string
// could carry a token.
func Instrument(next http.Handler, log *slog.Logger, m *Metrics, proxies ratelimit.Proxies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		// Where the request came from is decided once, here, for the logs
		// and every limit after.
		// RequestTimeout bounds the work of a request, a hung database's
		// included: it then answers 503, within the server's WriteTimeout.
		reqCtx, cancel := context.WithTimeout(context.WithValue(r.Context(), requestIDKey, id), RequestTimeout)
		defer cancel()
		r = proxies.Remember(r.WithContext(reqCtx))
		ctx := r.Context()
		h := w.Header()
		h.Set("X-Request-Id", id)
		// A baseline for every response, whatever answers it (a 404 of the
		// mux included): nothing is cached or leaks a Referer unless a
		// handler says otherwise (RFC 9700 §4.2.4; O21-3.2.3-a).
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "panic serving request", "path", r.URL.Path, "panic_type", typeName(p))
				if sw.status == 0 {
					writeJSONError(sw, serverError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			m.Requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			m.Latency.WithLabelValues(route).Observe(elapsed.Seconds())
			log.InfoContext(ctx, "request", "method", r.Method, "path", r.URL.Path, "route", route,
				"status", sw.status, "duration_ms", float64(elapsed.Microseconds())/1000, "remote", proxies.ClientIP(r))
		}()
		next.ServeHTTP(sw, r)
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// typeName names a panic value's type without printing the value, which
// could hold anything.
func typeName(v any) string {
	switch v.(type) {
	case error:
		return "error"
	case string:
		return "string"
	default:
		return "other"
	}
}

// WarnIgnoredForward logs, once, that a peer which is not a trusted proxy
// sent X-Forwarded-For. Behind the TLS proxy that an https issuer implies,
// it means that --trusted-proxy is missing: every user then shares the
// proxy's address, and one attacker's failed logins throttle them all.
func WarnIgnoredForward(next http.Handler, log *slog.Logger, proxies ratelimit.Proxies) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := proxies.Caller(r); c.IgnoredForward {
			once.Do(func() {
				log.WarnContext(r.Context(), "X-Forwarded-For from a peer that is not a trusted proxy was ignored: "+
					"if this server runs behind a reverse proxy, start it with --trusted-proxy set to the proxy's address, "+
					"or every user shares the proxy's address in rate limits and one attacker's failed sign-ins throttle everyone",
					"peer", c.Addr)
			})
		}
		next.ServeHTTP(w, r)
	})
}
