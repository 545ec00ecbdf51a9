package bff

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// loginPurpose binds a sealed transaction to the login cookie.
const loginPurpose = "gatehouse bff login transaction v1 " + LoginCookie

// login starts the authorization code flow (PKCE S256, state, iss; see
// client.ConfidentialApp.AuthCodeURL). The Transaction travels sealed
// (client.Keys.SealData, AES-256-GCM) in the login cookie, so that the
// callback works on any replica with the same Keys and the browser cannot
// read or change it.
func (b *BFF) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// RFC 9700 §4.11.1: returnTo is a path on this origin (client.CheckReturnTo).
	u, tx, err := b.app.AuthCodeURL(r.URL.Query().Get("returnTo"))
	if err != nil {
		b.fail(w, r, err)
		return
	}
	v, err := b.sealTx(tx)
	if err != nil {
		b.fail(w, r, err)
		return
	}
	http.SetCookie(w, loginCookie(v, int(client.TransactionTTL/time.Second)))
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// callback checks the authorization response, redeems the code, and
// starts a new session (a fresh id: a session id the browser had before
// is never kept, against fixation), then redirects (303) to the returnTo
// so that the code and state leave the address bar (RFC 9700 §4.2.4).
func (b *BFF) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	tx, err := b.takeTx(w, r)
	if err != nil {
		b.fail(w, r, err)
		return
	}
	s, err := b.app.Exchange(r.Context(), tx, r.URL.Query())
	if err != nil {
		b.fail(w, r, err)
		return
	}
	ctx, cancel := bounded(r.Context())
	defer cancel()
	if old, err := b.sessionID(r); err == nil {
		if err := b.source(old).Logout(ctx); err != nil {
			b.log.WarnContext(ctx, "bff: end the previous session", "error", err)
		}
	}
	id := newSessionID(b.now())
	if err := b.store.Save(ctx, b.key(id), s.Token); err != nil {
		b.fail(w, r, fmt.Errorf("bff: save the session: %w", err))
		return
	}
	http.SetCookie(w, sessionCookie(id, int(b.lifetime/time.Second)))
	to := s.ReturnTo
	if to == "" {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// takeTx returns the browser's login transaction. Only a response whose
// state is the transaction's uses it up (the cookie is deleted): a
// hostile page's navigation to the callback does not end the login in
// progress (RFC 6749 §10.12), and a replayed callback finds no cookie
// (BCP-4.2.4-c).
func (b *BFF) takeTx(w http.ResponseWriter, r *http.Request) (*client.Transaction, error) {
	ck, err := r.Cookie(LoginCookie)
	if err != nil || ck.Value == "" {
		return nil, client.ErrState
	}
	tx, err := b.openTx(ck.Value)
	if err != nil || time.Since(tx.Created) > client.TransactionTTL {
		http.SetCookie(w, loginCookie("", -1))
		return nil, fmt.Errorf("%w: the login cookie is expired or does not decrypt", client.ErrState)
	}
	st := r.URL.Query().Get("state")
	if st == "" || subtle.ConstantTimeCompare([]byte(st), []byte(tx.State)) != 1 {
		return nil, client.ErrState
	}
	http.SetCookie(w, loginCookie("", -1))
	return tx, nil
}

func (b *BFF) sealTx(tx *client.Transaction) (string, error) {
	j, err := json.Marshal(tx)
	if err != nil {
		return "", fmt.Errorf("bff: encode the login transaction: %w", err)
	}
	ct, err := b.keys.SealData(loginPurpose, j)
	if err != nil {
		return "", fmt.Errorf("bff: seal the login transaction: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(ct), nil
}

func (b *BFF) openTx(v string) (*client.Transaction, error) {
	ct, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", client.ErrDecrypt, err)
	}
	j, err := b.keys.OpenData(loginPurpose, ct)
	if err != nil {
		return nil, err
	}
	var tx client.Transaction
	if err := json.Unmarshal(j, &tx); err != nil {
		return nil, fmt.Errorf("%w: %w", client.ErrDecrypt, err)
	}
	return &tx, nil
}

// loginCookie is Lax, not Strict: it must come back with the top-level
// redirect from the authorization server (BBA-6.1.3.2-b's exception).
func loginCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: LoginCookie, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// fail answers a failed login with a page that shows no detail, and logs
// the error (which holds no token, code or verifier).
func (b *BFF) fail(w http.ResponseWriter, r *http.Request, err error) {
	b.log.WarnContext(r.Context(), "bff: login failed", "error", err)
	status := http.StatusBadRequest
	var ae *client.AuthError
	if !errors.Is(err, client.ErrState) && !errors.Is(err, client.ErrResponseIssuer) && !errors.Is(err, client.ErrReturnTo) && !errors.As(err, &ae) {
		status = http.StatusBadGateway
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("The login did not succeed. Please start again.\n"))
}
