package client

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// WebFlow runs the authorization code flow for a web app: Login sends the
// browser to the server, Callback receives the response. Between the two,
// the Transaction stays in this process's memory (bounded, for at most
// TransactionTTL), found by a random id in an HttpOnly, SameSite=Lax
// cookie (__Host- prefixed and Secure on https), so that a response is
// accepted only in the browser that started the login, and only once
// (RFC 9700 §4.2.4, §4.7.1).
//
// A WebFlow is safe for concurrent use. Behind several load-balanced
// instances, route the callback to the instance that served the login
// (or build your own flow on AuthCodeURL and Exchange with a shared
// transaction store).
type WebFlow struct {
	app       App
	onSuccess func(http.ResponseWriter, *http.Request, *Session) error
	onError   func(http.ResponseWriter, *http.Request, error)
	secure    bool
	cookie    string

	mu      sync.Mutex
	pending map[[32]byte]*Transaction // by the digest of the cookie's id
	order   [][32]byte                // the ids in the order kept, oldest first
}

// TransactionTTL is how long a login may take, from Login to Callback.
const TransactionTTL = 10 * time.Minute

// MaxPendingLogins bounds the logins a WebFlow keeps at once; beyond it,
// Start drops the oldest pending login.
const MaxPendingLogins = 10000

// ErrTooManyLogins was the error of Start beyond MaxPendingLogins; Start
// now drops the oldest pending login instead, and no longer returns it.
var ErrTooManyLogins = errors.New("client: too many logins in progress")

// NewWebFlow returns the flow of app, whose RedirectURL must be an https
// URL, or http on loopback for development, served by Callback.
//
// onSuccess receives the Session of each successful login: it should
// save the tokens (a TokenStore) and start the app's own session (a
// cookie of its own, set on w's headers), and must not write the body:
// when it returns nil, the callback redirects (303) to the Session's
// ReturnTo, or "/", so that the code and state leave the address bar
// (RFC 9700 §4.2.4). When it returns an error, onError is called.
//
// onError receives every failure (ErrState, ErrResponseIssuer, an
// *AuthError, ...) and writes the response; nil writes a plain 400 page
// that shows no detail.
func NewWebFlow(app App, onSuccess func(http.ResponseWriter, *http.Request, *Session) error, onError func(http.ResponseWriter, *http.Request, error)) (*WebFlow, error) {
	c, err := app.core()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(c.redirectURL)
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, errors.Join(ErrConfig, errors.New("client: a WebFlow needs an https (or loopback http) RedirectURL"))
	}
	if onSuccess == nil {
		return nil, errors.Join(ErrConfig, errors.New("client: NewWebFlow needs onSuccess"))
	}
	if onError == nil {
		onError = func(w http.ResponseWriter, _ *http.Request, _ error) {
			http.Error(w, "The login did not succeed. Please start again.", http.StatusBadRequest)
		}
	}
	f := &WebFlow{app: app, onSuccess: onSuccess, onError: onError, pending: map[[32]byte]*Transaction{}}
	// Secure cookies with the __Host- prefix on https (RFC 6265bis §4.1.3.2);
	// a plain name on a loopback http development server.
	f.secure = u.Scheme == "https"
	f.cookie = "gatehouse_login"
	if f.secure {
		f.cookie = "__Host-gatehouse_login"
	}
	return f, nil
}

// Login returns the handler that starts a login: it takes returnTo from
// the query (?returnTo=/path, a path on this site; anything else is
// refused with ErrReturnTo), sets the transaction cookie and redirects
// (303) to the authorization server.
func (f *WebFlow) Login() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := f.Start(w, r.URL.Query().Get("returnTo"))
		if err != nil {
			f.onError(w, r, err)
			return
		}
		http.Redirect(w, r, u, http.StatusSeeOther)
	})
}

// Start begins a login from a handler of the app's own: it keeps the
// Transaction, sets its cookie on w and returns the URL to redirect the
// browser to.
func (f *WebFlow) Start(w http.ResponseWriter, returnTo string) (string, error) {
	u, tx, err := authCodeURL(f.app, returnTo)
	if err != nil {
		return "", err
	}
	id := randomString()
	if err := f.keep(digest(id), tx); err != nil {
		return "", err
	}
	http.SetCookie(w, f.newCookie(id, int(TransactionTTL/time.Second)))
	return u, nil
}

// Callback returns the handler of the redirect URL. It takes the
// browser's transaction (once: a replay finds none), checks state and iss
// (ErrState, ErrResponseIssuer) without calling the token endpoint,
// redeems the code with the PKCE verifier, compares the granted scopes,
// calls onSuccess and redirects (303) to the ReturnTo.
func (f *WebFlow) Callback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		tx, kept := f.take(r)
		if !kept {
			http.SetCookie(w, f.newCookie("", -1))
		}
		if r.Method != http.MethodGet {
			f.onError(w, r, ErrState)
			return
		}
		s, err := exchange(r.Context(), f.app, tx, r.URL.Query())
		if err == nil {
			err = f.onSuccess(w, r, s)
		}
		if err != nil {
			f.onError(w, r, err)
			return
		}
		to := s.ReturnTo
		if to == "" {
			to = "/"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
}

func (f *WebFlow) newCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: f.cookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: f.secure, SameSite: http.SameSiteLaxMode,
	}
}

// keep stores tx under the digest of its cookie id. At MaxPendingLogins,
// the expired and then the oldest pending logins are dropped: a flood of
// anonymous logins ends older pending ones, never every new one.
func (f *WebFlow) keep(id [32]byte, tx *Transaction) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.pending) >= MaxPendingLogins && len(f.order) > 0 {
		old := f.order[0]
		f.order = f.order[1:]
		delete(f.pending, old) // the oldest (or one taken already)
	}
	if len(f.order) > 2*MaxPendingLogins {
		f.compact()
	}
	f.pending[id] = tx
	f.order = append(f.order, id)
	return nil
}

// compact drops from order the ids of logins already taken.
func (f *WebFlow) compact() {
	live := make([][32]byte, 0, len(f.pending))
	for _, id := range f.order {
		if _, ok := f.pending[id]; ok {
			live = append(live, id)
		}
	}
	f.order = live
}

// take returns the transaction of r's cookie, or nil when there is none
// or it expired, and whether it was kept. Every transaction is used at
// most once (RFC 9700 §4.2.4, BCP-4.2.4-c), but only a response whose
// state is the transaction's uses it: a foreign response (a hostile
// page's navigation to the callback) does not end the login in progress.
func (f *WebFlow) take(r *http.Request) (*Transaction, bool) {
	ck, err := r.Cookie(f.cookie)
	if err != nil || ck.Value == "" {
		return nil, false
	}
	id := digest(ck.Value)
	f.mu.Lock()
	defer f.mu.Unlock()
	tx := f.pending[id]
	if tx == nil {
		return nil, false
	}
	if time.Since(tx.Created) > TransactionTTL {
		delete(f.pending, id)
		return nil, false
	}
	st := r.URL.Query().Get("state")
	if st == "" || subtle.ConstantTimeCompare([]byte(st), []byte(tx.State)) != 1 {
		return nil, true // RFC 6749 §10.12: not this login's response
	}
	delete(f.pending, id)
	return tx, false
}

func digest(s string) [32]byte { return sha256.Sum256([]byte(s)) }
