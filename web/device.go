package web

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Default limits of wrong user codes on the verification page (RFC 8628
// §5.1). Only wrong codes count. The global limit bounds what any number
// of accounts and addresses can guess together; the two before it mean
// that exhausting it takes hundreds of accounts or addresses at once.
// oauth.UserCodeLength has the arithmetic.
var (
	// One address: 20, then 4 a minute.
	DefaultUserCodeAddrLimit = ratelimit.Limit{Burst: 20, Every: 15 * time.Second}
	// One signed-in user: 10, then 2 a minute.
	DefaultUserCodeUserLimit = ratelimit.Limit{Burst: 10, Every: 30 * time.Second}
	// The whole server: 600, then 10 a second.
	DefaultUserCodeGlobalLimit = ratelimit.Limit{Burst: 600, Every: 100 * time.Millisecond}
)

// deviceReturn matches the verification page a login may return to: the
// page, or the page with a well-formed user code (verification_uri_complete).
var deviceReturn = regexp.MustCompile(`^/device(\?user_code=[` + oauth.UserCodeAlphabet + `]{4}-[` + oauth.UserCodeAlphabet + `]{4})?$`)

// devicePath is the verification page for a normalized user code.
func devicePath(code string) string {
	return oauth.DevicePath + "?user_code=" + oauth.FormatUserCode(code)
}

type devicePage struct {
	Username string
	// Entry: the code as typed, and why it was refused.
	Typed, Error string
	// Confirmation: the request of a valid code.
	UserCode                          string // formatted
	AppName, Publisher, Description   string
	HomepageURL, PrivacyURL, TermsURL string
	Scopes                            []scopeLine
	// Done: the decision was recorded.
	Approved, Denied bool
}

// device is the verification page (RFC 8628 §3.3): signed in, the user
// enters the code the device shows, or arrives with it in the address
// (verification_uri_complete, §3.3.1), and is then shown which app asks
// for which scopes. Nothing is approved without the user's click on the
// confirmation, however the code arrived (§5.4: a link with a code may
// come from an attacker).
func (p *Pages) device(w http.ResponseWriter, r *http.Request) {
	typed := r.URL.Query().Get("user_code")
	back := oauth.DevicePath
	if code, ok := oauth.NormalizeUserCode(typed); ok {
		back = devicePath(code)
	}
	u, ok := p.signedIn(w, r, back)
	if !ok {
		return
	}
	if typed == "" {
		p.render(w, r, http.StatusOK, "device", devicePage{Username: u.Username})
		return
	}
	p.confirmDevice(w, r, u, typed)
}

// deviceForm takes the code entry (user_code) and the decision
// (user_code with decision=allow|deny), both checked against the limits.
func (p *Pages) deviceForm(w http.ResponseWriter, r *http.Request) {
	in, err := readForm(w, r)
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	u, ok := p.signedIn(w, r, oauth.DevicePath)
	if !ok {
		return
	}
	typed, decision := in.params["user_code"], in.params["decision"]
	if decision == "" {
		p.confirmDevice(w, r, u, typed)
		return
	}
	if decision != "allow" && decision != "deny" {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form must say decision=allow or decision=deny.")
		return
	}
	status := p.checkUserCode(w, r, u, typed, func(ctx context.Context, code string) error {
		_, err := p.OAuth.DecideDevice(ctx, u.ID, code, decision == "allow")
		return err
	})
	if p.refusedUserCode(w, r, u, typed, status) {
		return
	}
	p.render(w, r, http.StatusOK, "device", devicePage{Username: u.Username, Approved: decision == "allow", Denied: decision == "deny"})
}

// confirmDevice shows the request of a typed code, or the entry form again
// with why it was refused.
func (p *Pages) confirmDevice(w http.ResponseWriter, r *http.Request, u gatehouse.User, typed string) {
	var pending oauth.PendingDevice
	status := p.checkUserCode(w, r, u, typed, func(ctx context.Context, code string) error {
		var err error
		pending, err = p.OAuth.PendingDevice(ctx, code)
		return err
	})
	if p.refusedUserCode(w, r, u, typed, status) {
		return
	}
	app := pending.App
	data := devicePage{Username: u.Username, UserCode: oauth.FormatUserCode(pending.UserCode), AppName: app.Name,
		Description: app.Description, HomepageURL: app.HomepageURL, PrivacyURL: app.PrivacyURL, TermsURL: app.TermsURL}
	var err error
	if data.Publisher, err = p.publisher(r, app); err != nil {
		p.serverError(w, r, err)
		return
	}
	for _, name := range pending.Scopes {
		sc, err := p.OAuth.Store().GetScope(r.Context(), name)
		if errors.Is(err, gatehouse.ErrNotFound) {
			sc = gatehouse.Scope{Name: name, Description: name} // deleted since: shown by name
		} else if err != nil {
			p.serverError(w, r, err)
			return
		}
		data.Scopes = append(data.Scopes, scopeLine{Name: sc.Name, Description: sc.Description})
	}
	p.render(w, r, http.StatusOK, "device", data)
}

// refusedUserCode ends a request whose user code checkUserCode did not
// accept (status): with the entry form again and why, or not at all when
// checkUserCode wrote an error page (0). It reports whether it ended it.
func (p *Pages) refusedUserCode(w http.ResponseWriter, r *http.Request, u gatehouse.User, typed string, status int) bool {
	switch status {
	case http.StatusOK:
		return false
	case 0:
	default:
		p.render(w, r, status, "device", devicePage{Username: u.Username, Typed: typed, Error: userCodeMessage(status)})
	}
	return true
}

// userCodeMessage is what the entry form says after a refusal of status.
func userCodeMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Too many wrong codes. Please wait a minute and try again."
	case http.StatusServiceUnavailable:
		return "The server is busy. Please try again in a moment."
	}
	return "That code is not valid. Check the code on your device — it may have expired, or been used already."
}

// checkUserCode runs use on a typed user code under the limits: a code
// that cannot be one is refused without a lookup (and costs nothing); a
// well-formed one takes an attempt from the address, the user and the
// whole server first, and gives it back when use succeeds (only wrong
// codes count). It returns 200 when use succeeded, the status of the
// refusal (400, 429) for the caller to show, or 0 when it wrote a server
// error page itself.
func (p *Pages) checkUserCode(w http.ResponseWriter, r *http.Request, u gatehouse.User, typed string, use func(context.Context, string) error) int {
	code, wellFormed := oauth.NormalizeUserCode(typed)
	if !wellFormed {
		return http.StatusBadRequest
	}
	limits := []limit{
		{p.UserCodeAddrLimit, p.Proxies.Caller(r).Key, "address"},
		{p.UserCodeUserLimit, strconv.FormatInt(u.ID, 10), "user"},
		{p.UserCodeGlobalLimit, "global", "global"},
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), limitTimeout)
	defer cancel()
	wait, refused, err := p.reserve(lctx, limits)
	if err != nil {
		p.serverError(w, r, err)
		return 0
	}
	if refused != nil {
		p.Log.WarnContext(r.Context(), "user code throttled", "limit", refused.name, "remote", p.Proxies.ClientIP(r))
		p.OAuth.UserCodeThrottled(lctx, refused.name, refused.key, u.ID, wait)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		return http.StatusTooManyRequests
	}
	err = use(r.Context(), code)
	if errors.Is(err, oauth.ErrUserCode) {
		p.Log.WarnContext(r.Context(), "wrong user code", "remote", p.Proxies.ClientIP(r))
		return http.StatusBadRequest // the attempts stay taken
	}
	if rerr := refund(lctx, limits); rerr != nil {
		p.Log.WarnContext(r.Context(), "user code limit refund", "err", rerr)
	}
	if err != nil {
		p.serverError(w, r, err)
		return 0
	}
	return http.StatusOK
}

// deviceSwitchReturn is where "not you?" on the confirmation goes: the
// login, back to the same code.
func deviceSwitchReturn(in input) (string, bool) {
	if in.params["client_id"] != "" {
		return "", false
	}
	code, ok := oauth.NormalizeUserCode(in.params["user_code"])
	if !ok {
		return "", false
	}
	return loginReturning(devicePath(code)), true
}
