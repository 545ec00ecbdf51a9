package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// authzParams are the authorization request parameters carried through the
// login and consent forms. Nothing else is carried, so that no page can be
// turned into an open redirector (RFC 9700 §4.11).
var authzParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"}

// maxFormBytes caps a page form.
const maxFormBytes = 16 << 10

// input is a request's parameters: all values as sent, each parameter's
// single value, and the names of parameters sent more than once.
type input struct {
	raw      url.Values
	params   map[string]string
	repeated []string
}

func newInput(v url.Values) input {
	p, repeated := oauth.SingleParams(v)
	return input{raw: v, params: p, repeated: repeated}
}

// carried keeps every value of the authorization parameters, repeats
// included, so that a repeated parameter is still refused after the login
// page (OAuth 2.1 §3.1).
func (in input) carried() url.Values {
	out := url.Values{}
	for _, k := range authzParams {
		if vs, ok := in.raw[k]; ok {
			out[k] = vs
		}
	}
	return out
}

// readForm parses a page form body strictly and with a size cap.
func readForm(w http.ResponseWriter, r *http.Request) (input, error) {
	if r.URL.RawQuery != "" {
		return input{}, errors.New("unexpected query string")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return input{}, err
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return input{}, err
	}
	return newInput(v), nil
}

// authorize is the authorization endpoint (RFC 6749 §3.1, §4.1.1). The
// client and redirect URI are checked first and shown as a page when bad;
// the user is authenticated before any redirect, error redirects included
// (RFC 9700 §4.11.2).
func (p *Pages) authorize(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The authorization request is malformed.")
		return
	}
	p.continueAuthorize(w, r, newInput(q), http.StatusFound)
}

func (p *Pages) continueAuthorize(w http.ResponseWriter, r *http.Request, in input, redirectStatus int) {
	params, repeated := in.params, in.repeated
	app, redirectURI, ok := p.checkClient(w, r, params, repeated)
	if !ok {
		return
	}
	u, ok, err := p.currentUser(r)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if !ok {
		p.render(w, r, http.StatusOK, "login", loginPage{AppName: app.Name, Params: in.carried()})
		return
	}
	req, err := p.OAuth.CheckAuthorize(app, redirectURI, params, repeated)
	if e, isProto := errors.AsType[*oauth.Error](err); isProto {
		http.Redirect(w, r, p.OAuth.ErrorRedirect(redirectURI, req.State, e), redirectStatus)
		return
	}
	needed, fresh, err := p.OAuth.NeedsConsent(r.Context(), u.ID, req)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if needed {
		p.showConsent(w, r, u, req, fresh, in)
		return
	}
	p.approve(w, r, u, req, redirectStatus)
}

func (p *Pages) checkClient(w http.ResponseWriter, r *http.Request, params map[string]string, repeated []string) (gatehouse.App, string, bool) {
	app, redirectURI, err := p.OAuth.CheckClient(r.Context(), params, repeated)
	if pe, ok := errors.AsType[*oauth.PageError](err); ok {
		p.errorPage(w, r, http.StatusBadRequest, "This link cannot be used", pe.Message)
		return app, "", false
	}
	if err != nil {
		p.serverError(w, r, err)
		return app, "", false
	}
	return app, redirectURI, true
}

func (p *Pages) approve(w http.ResponseWriter, r *http.Request, u gatehouse.User, req oauth.AuthorizeRequest, status int) {
	to, err := p.OAuth.Approve(r.Context(), u.ID, req)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, to, status)
}

type scopeLine struct {
	Name, Description string
	New               bool
}

type consentPage struct {
	AppName, Username, RedirectHost string
	// Publisher is the username of the app's owner (empty: the platform
	// registered it); Description and the links are the app's profile,
	// https only (validated at registration).
	Publisher, Description            string
	HomepageURL, PrivacyURL, TermsURL string
	Scopes                            []scopeLine
	Params                            url.Values
}

func (p *Pages) showConsent(w http.ResponseWriter, r *http.Request, u gatehouse.User, req oauth.AuthorizeRequest, fresh []string, in input) {
	data := consentPage{AppName: req.App.Name, Username: u.Username, Params: in.carried(), RedirectHost: redirectHost(req.RedirectURI),
		Description: req.App.Description, HomepageURL: req.App.HomepageURL, PrivacyURL: req.App.PrivacyURL, TermsURL: req.App.TermsURL}
	var err error
	if data.Publisher, err = p.publisher(r, req.App); err != nil {
		p.serverError(w, r, err)
		return
	}
	for _, name := range req.Scopes {
		sc, err := p.OAuth.Store().GetScope(r.Context(), name)
		if err != nil {
			p.serverError(w, r, err)
			return
		}
		isNew := false
		for _, f := range fresh {
			isNew = isNew || f == name
		}
		data.Scopes = append(data.Scopes, scopeLine{Name: sc.Name, Description: sc.Description, New: isNew})
	}
	p.render(w, r, http.StatusOK, "consent", data)
}

func redirectHost(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		scheme, _, _ := strings.Cut(uri, ":")
		return scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

// consent takes the user's decision=allow|deny and answers 303 (RFC 9700
// §4.12). The request is validated again from scratch.
func (p *Pages) consent(w http.ResponseWriter, r *http.Request) {
	in, err := readForm(w, r)
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	form, repeated := in.params, in.repeated
	decision := form["decision"]
	if decision != "allow" && decision != "deny" {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form must say decision=allow or decision=deny.")
		return
	}
	app, redirectURI, ok := p.checkClient(w, r, form, repeated)
	if !ok {
		return
	}
	u, ok, err := p.currentUser(r)
	if err != nil || !ok {
		p.sessionLost(w, r, app, in, err)
		return
	}
	req, err := p.OAuth.CheckAuthorize(app, redirectURI, form, repeated)
	if e, isProto := errors.AsType[*oauth.Error](err); isProto {
		http.Redirect(w, r, p.OAuth.ErrorRedirect(redirectURI, req.State, e), http.StatusSeeOther)
		return
	}
	if decision == "deny" {
		http.Redirect(w, r, p.OAuth.Deny(req), http.StatusSeeOther)
		return
	}
	p.approve(w, r, u, req, http.StatusSeeOther)
}

// sessionLost shows the login page again when the session ended between
// the consent page and the decision.
func (p *Pages) sessionLost(w http.ResponseWriter, r *http.Request, app gatehouse.App, in input, err error) {
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "login", loginPage{AppName: app.Name, Params: in.carried(), Error: "Your session ended. Please sign in again."})
}

// loginPage is the sign-in form. After a failure it keeps the username
// and the app's name, and the focus goes to the password field.
type loginPage struct {
	AppName, Username, Error string
	Params                   url.Values
	// ReturnTo is where a login outside an authorization request goes
	// back to: one of returnPaths, or empty for the home page.
	ReturnTo string
}

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "login", loginPage{ReturnTo: allowedReturn(r.URL.Query().Get("return_to"))})
}

// appName is the name of the app of an authorization request carried by
// the login form, to show again after a failed attempt; empty when the
// request names no valid app.
func (p *Pages) appName(r *http.Request, in input) string {
	if in.params["client_id"] == "" {
		return ""
	}
	app, _, err := p.OAuth.CheckClient(r.Context(), in.params, in.repeated)
	if err != nil {
		return ""
	}
	return app.Name
}

// login checks the credentials, throttled with the same answer for an
// unknown user and a wrong password, opens a fresh session (ending the one
// the browser had) and answers 303 (RFC 9700 §4.12) to the authorization
// request it came from, or to the home page. It redirects nowhere else.
func (p *Pages) login(w http.ResponseWriter, r *http.Request) {
	in, err := readForm(w, r)
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	form := in.params
	page := loginPage{Username: form["username"], Params: in.carried(), ReturnTo: allowedReturn(form["return_to"])}
	if len(page.Params) > 0 {
		page.AppName, page.ReturnTo = p.appName(r, in), ""
	}
	device, known, err := p.knownDevice(r, form["username"])
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	limits := p.loginLimits(r, form["username"], device, known)
	// The limits' reads and writes outlive a cancelled request: a client
	// that drops its connection must not keep attempts taken that a
	// completed request would have given back (review M1).
	lctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), limitTimeout)
	defer cancel()
	wait, refused, err := p.reserve(lctx, limits)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if refused != nil {
		p.Log.WarnContext(r.Context(), "login throttled", "remote", p.Proxies.ClientIP(r), "known_device", known)
		p.OAuth.LoginThrottled(lctx, refused.name, refused.key, form["username"], wait)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		page.Error = "Too many failed sign-ins. Please wait a minute and try again."
		p.render(w, r, http.StatusTooManyRequests, "login", page)
		return
	}
	u, err := p.OAuth.Login(r.Context(), form["username"], form["password"])
	if errors.Is(err, oauth.ErrLoginFailed) {
		// The reservations stay taken: a failure counts.
		p.Log.WarnContext(r.Context(), "login failed", "remote", p.Proxies.ClientIP(r), "known_device", known)
		page.Error = "The username or password is wrong."
		p.render(w, r, http.StatusUnauthorized, "login", page)
		return
	}
	if rerr := refund(lctx, limits); rerr != nil {
		p.Log.WarnContext(r.Context(), "login limit refund", "err", rerr)
	}
	if errors.Is(err, oauth.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		page.Error = "The server is busy. Please try again in a moment."
		p.render(w, r, http.StatusServiceUnavailable, "login", page)
		return
	}
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	err = p.startSession(w, r, u, known)
	if errors.Is(err, oauth.ErrLoginFailed) {
		// The password was changed, or the account deleted, while it was
		// being checked: the old password no longer signs in.
		page.Error = "The username or password is wrong."
		p.render(w, r, http.StatusUnauthorized, "login", page)
		return
	}
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	next := "/"
	if page.ReturnTo != "" {
		next = page.ReturnTo
	}
	if len(page.Params) > 0 {
		next = "/authorize?" + page.Params.Encode()
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// startSession ends the browser's previous session, if any, so that a
// sign-in never leaves one behind on the server; opens a new one; and
// remembers the browser as a device of u unless it is one already.
func (p *Pages) startSession(w http.ResponseWriter, r *http.Request, u gatehouse.User, knownDevice bool) error {
	if c, err := r.Cookie(p.cookie); err == nil {
		if err := p.OAuth.EndSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	id, device, err := p.OAuth.SignIn(r.Context(), u, !knownDevice)
	if err != nil {
		return err
	}
	p.setSession(w, id)
	if device != "" {
		p.setDevice(w, device)
	}
	return nil
}

// knownDevice returns the browser's device cookie and whether it is a live
// device of the account named username.
func (p *Pages) knownDevice(r *http.Request, username string) (string, bool, error) {
	c, err := r.Cookie(p.deviceCookie)
	if err != nil {
		return "", false, nil
	}
	known, err := p.OAuth.KnownDevice(r.Context(), c.Value, username)
	return c.Value, known, err
}

type limit struct {
	limiter Limiter
	key     string
	name    string // for the audit log: device, address, account_address, account
}

// limitTimeout bounds the limits' work for one login.
const limitTimeout = 5 * time.Second

// loginLimits are the failure limits of a login. From a stranger's
// browser: the address, the account from this address (strict), and the
// account from anywhere (looser). The address comes first: a throttled
// address is refused before it can take attempts from any account's
// buckets (review M1, L1). From a browser the account has signed in from
// before (a known device cookie), only that device's own limit: failures
// by others, at any address, never lock the user out (DESIGN invariant 11;
// OWASP device cookies), and a stolen cookie buys a guesser no more than a
// strict limit on one account.
func (p *Pages) loginLimits(r *http.Request, username, device string, known bool) []limit {
	if known {
		return []limit{{p.DeviceLimit, device, "device"}}
	}
	user, addr := strings.ToLower(username), p.Proxies.Caller(r).Key
	if len(user) > 80 {
		user = user[:80]
	}
	return []limit{{p.AddrLimit, addr, "address"}, {p.PairLimit, user + "|" + addr, "account_address"}, {p.UserLimit, user, "account"}}
}

// reserve takes one attempt from every limit, in order, before the
// password is checked, so that concurrent guesses cannot all pass. When one
// refuses (or fails), the attempts taken are given back.
func (p *Pages) reserve(ctx context.Context, ls []limit) (time.Duration, *limit, error) {
	for i, l := range ls {
		ok, wait, err := l.limiter.Reserve(ctx, l.key)
		if err != nil || !ok {
			if rerr := refund(ctx, ls[:i]); rerr != nil {
				p.Log.WarnContext(ctx, "login limit refund", "err", rerr)
			}
			if err == nil {
				return wait, &ls[i], nil
			}
			return wait, nil, err
		}
	}
	return 0, nil, nil
}

// refund gives back the attempts of every limit.
func refund(ctx context.Context, ls []limit) error {
	var errs []error
	for _, l := range ls {
		errs = append(errs, l.limiter.Refund(ctx, l.key))
	}
	return errors.Join(errs...)
}

type devCallbackPage struct {
	Code, State, Iss, Error, ErrorDescription, Issuer, RedirectURI string
	IssOK                                                          bool
	Empty                                                          bool // opened without a response
}

// devCallback shows what an app's redirect URI receives (serve --dev only).
func (p *Pages) devCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	iss := p.OAuth.Issuer()
	p.render(w, r, http.StatusOK, "dev_callback", devCallbackPage{
		Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss"), Error: q.Get("error"),
		ErrorDescription: q.Get("error_description"), Issuer: iss, RedirectURI: iss + "/dev/callback",
		IssOK: q.Get("iss") == iss, Empty: q.Get("code") == "" && q.Get("error") == "",
	})
}
