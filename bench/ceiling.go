package bench

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Clients are the clients the ceiling knows: confidential ones by client_id
// and secret, public ones by client_id.
type Clients struct {
	Confidential map[string]string `json:"confidential"`
	Public       []string          `json:"public"`
}

// Clients returns the clients of f, for the ceiling to accept.
func (f *Fixture) Clients() Clients {
	c := Clients{Confidential: map[string]string{}, Public: []string{f.PublicID}}
	for _, cr := range []Credentials{f.Service, f.Resource, f.Web} {
		c.Confidential[cr.ID] = cr.Secret
	}
	return c
}

// ceiling answers the request shapes of the scenarios as cheaply as a
// correct-looking server can: it parses the form, authenticates the client
// in constant time and answers a random token as RFC 6749 JSON, with no
// storage and no token crypto. It is the yardstick of issue 4: what this
// machine's net/http does when the server does nothing else.
type ceiling struct {
	clients Clients
	// dummy is compared against when the client_id is unknown, so that the
	// time taken does not depend on it, as in a real server.
	dummy string
}

// NewCeiling returns the ceiling handler for clients.
func NewCeiling(clients Clients) http.Handler {
	c := &ceiling{clients: clients, dummy: rand.Text()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", c.token)
	mux.HandleFunc("POST /introspect", c.introspect)
	mux.HandleFunc("POST /revoke", c.revoke)
	mux.HandleFunc("GET /authorize", c.authorize)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	return mux
}

// ServeCeiling serves the ceiling on addr until ctx ends, with the server
// timeouts of 'gatehouse serve'.
func ServeCeiling(ctx context.Context, addr string, clients Clients) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ceiling: listen: %w", err)
	}
	hs := &http.Server{
		Handler: NewCeiling(clients), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ceiling: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("ceiling: shutdown: %w", err)
	}
	return nil
}

// form parses the body and authenticates the client: Basic credentials
// compared in constant time, or the client_id of a public client.
func (c *ceiling) form(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return nil, false
	}
	if !c.authenticate(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="ceiling"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return nil, false
	}
	return r.PostForm, true
}

func (c *ceiling) authenticate(r *http.Request) bool {
	id, sec, ok := r.BasicAuth()
	if !ok {
		return slices.Contains(c.clients.Public, r.PostForm.Get("client_id"))
	}
	id, err1 := url.QueryUnescape(id)
	sec, err2 := url.QueryUnescape(sec)
	want, known := c.clients.Confidential[id]
	if !known {
		want = c.dummy
	}
	same := subtle.ConstantTimeCompare([]byte(sec), []byte(want)) == 1
	return same && known && err1 == nil && err2 == nil
}

type ceilingToken struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

func (c *ceiling) token(w http.ResponseWriter, r *http.Request) {
	f, ok := c.form(w, r)
	if !ok {
		return
	}
	resp := ceilingToken{AccessToken: randomToken(), TokenType: "Bearer", ExpiresIn: 600, Scope: f.Get("scope")}
	switch f.Get("grant_type") {
	case "client_credentials":
	case "refresh_token":
		if f.Get("refresh_token") == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		resp.RefreshToken = randomToken()
	case "authorization_code":
		if f.Get("code") == "" || f.Get("code_verifier") == "" || f.Get("redirect_uri") == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		resp.RefreshToken = randomToken()
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (c *ceiling) introspect(w http.ResponseWriter, r *http.Request) {
	f, ok := c.form(w, r)
	if !ok {
		return
	}
	if f.Get("token") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"active": true})
}

func (c *ceiling) revoke(w http.ResponseWriter, r *http.Request) {
	f, ok := c.form(w, r)
	if !ok {
		return
	}
	if f.Get("token") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// authorize answers an authorization request from a signed-in user with a
// code: it checks the client, the PKCE challenge and that a session cookie
// is present, and looks nothing up.
func (c *ceiling) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	_, err := r.Cookie("gatehouse_session")
	ok := err == nil && q.Get("response_type") == "code" && slices.Contains(c.clients.Public, q.Get("client_id")) &&
		q.Get("redirect_uri") != "" && q.Get("code_challenge") != "" && q.Get("code_challenge_method") == "S256"
	if !ok {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	v := url.Values{"code": {randomToken()}, "iss": {"http://" + r.Host}}
	if s := q.Get("state"); s != "" {
		v.Set("state", s)
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+v.Encode(), http.StatusFound)
}

// randomToken is 256 random bits as text, about as long as a Gatehouse token.
func randomToken() string { return rand.Text() + rand.Text() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
