package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// accountAppsPath is the connected-apps page; a login may return to it.
const accountAppsPath = "/account/apps"

// returnPaths are the only places a login outside an authorization
// request returns to, by exact match, besides the developer portal's
// pages (developerReturn): a same-site path of a fixed shape, so that
// nothing taken from a request becomes a redirect elsewhere (RFC 9700
// §4.11).
var returnPaths = []string{accountAppsPath}

func allowedReturn(path string) string {
	for _, p := range returnPaths {
		if path == p {
			return p
		}
	}
	if developerReturn.MatchString(path) || deviceReturn.MatchString(path) {
		return path
	}
	return ""
}

// signedIn returns the user of the request's session. Without one it
// sends the browser to sign in and come back to back (one of returnPaths),
// and returns false.
func (p *Pages) signedIn(w http.ResponseWriter, r *http.Request, back string) (gatehouse.User, bool) {
	u, ok, err := p.currentUser(r)
	if err != nil {
		p.serverError(w, r, err)
		return u, false
	}
	if !ok {
		http.Redirect(w, r, loginReturning(back), http.StatusSeeOther)
	}
	return u, ok
}

// loginReturning is the login page that returns to back (one of
// returnPaths, the portal's or the device page's): the value escaped,
// its slashes left as they are.
func loginReturning(back string) string {
	return "/login?return_to=" + strings.ReplaceAll(url.QueryEscape(back), "%2F", "/")
}

type connectedApp struct {
	ID                  int64
	Name                string
	Scopes              []scopeLine
	First, Last         time.Time
	Grants              int
	FirstText, LastText string
	// Used is when the app last got a token for the user (zero: no token
	// is stored any more); UsedText is it as the page writes it.
	Used     time.Time
	UsedText string
	// Publisher is the username of the app's owner (empty: the platform
	// registered it); HomepageURL is its homepage (https, validated).
	Publisher, HomepageURL string
}

type connectedAppsPage struct {
	Username string
	Apps     []connectedApp
	Done     string
}

// doneMessages are the fixed confirmations after a disconnect (?done=…).
var doneMessages = map[string]string{
	"one": "The app was disconnected: its access was revoked, and it will have to ask you again.",
	"all": "Every app was disconnected: their access was revoked, and each will have to ask you again.",
}

// connectedApps lists the apps the user has granted access to, with a
// Disconnect button for each (DESIGN's cascade: "User disconnects an
// app").
func (p *Pages) connectedApps(w http.ResponseWriter, r *http.Request) {
	u, ok := p.signedIn(w, r, accountAppsPath)
	if !ok {
		return
	}
	apps, err := p.OAuth.ConnectedApps(r.Context(), u.ID)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	data := connectedAppsPage{Username: u.Username, Done: doneMessages[r.URL.Query().Get("done")]}
	for _, a := range apps {
		line := connectedApp{ID: a.App.ID, Name: a.App.Name, First: a.FirstGranted.UTC(), Last: a.LastGranted.UTC(), Grants: a.Grants,
			FirstText: a.FirstGranted.UTC().Format(dateFormat), LastText: a.LastGranted.UTC().Format(dateFormat)}
		if !a.LastUsed.IsZero() {
			line.Used, line.UsedText = a.LastUsed.UTC(), a.LastUsed.UTC().Format(dateFormat)
		}
		line.HomepageURL = a.App.HomepageURL
		if line.Publisher, err = p.publisher(r, a.App); err != nil {
			p.serverError(w, r, err)
			return
		}
		for _, sc := range a.Scopes {
			line.Scopes = append(line.Scopes, scopeLine{Name: sc.Name, Description: sc.Description})
		}
		data.Apps = append(data.Apps, line)
	}
	p.render(w, r, http.StatusOK, "account_apps", data)
}

const dateFormat = "2 Jan 2006, 15:04 UTC"

// publisher is the username of app's owner, as the consent and
// connected-apps pages name it; empty when the platform registered it (or
// the owner was deleted).
func (p *Pages) publisher(r *http.Request, app gatehouse.App) (string, error) {
	if app.OwnerID == 0 {
		return "", nil
	}
	owner, err := p.OAuth.Store().GetUser(r.Context(), app.OwnerID)
	if err != nil && !errors.Is(err, gatehouse.ErrNotFound) {
		return "", err
	}
	return owner.Username, nil
}

// disconnect revokes every grant of the signed-in user for the app named
// by app_id, with their tokens, and forgets the consent. It acts only on
// the user's own grants: another user's app id disconnects nothing of
// theirs. It answers 303 (RFC 9700 §4.12).
func (p *Pages) disconnect(w http.ResponseWriter, r *http.Request) {
	in, err := readForm(w, r)
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	id, err := strconv.ParseInt(in.params["app_id"], 10, 64)
	if err != nil || id <= 0 || len(in.repeated) > 0 {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form must name one app.")
		return
	}
	u, ok := p.signedIn(w, r, accountAppsPath)
	if !ok {
		return
	}
	revoked, err := p.OAuth.DisconnectApp(r.Context(), u.ID, id)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	if revoked.Grants == 0 { // nothing to do (a second click): the list shows why
		http.Redirect(w, r, accountAppsPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, accountAppsPath+"?done=one", http.StatusSeeOther)
}

// disconnectAll disconnects every app of the signed-in user.
func (p *Pages) disconnectAll(w http.ResponseWriter, r *http.Request) {
	if _, err := readForm(w, r); err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	u, ok := p.signedIn(w, r, accountAppsPath)
	if !ok {
		return
	}
	if _, err := p.OAuth.DisconnectAll(r.Context(), u.ID); err != nil {
		p.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, accountAppsPath+"?done=all", http.StatusSeeOther)
}

// switchAccount ends the session and returns to the same authorization
// request, which then asks to sign in ("not you?" on the consent page).
// Only the authorization parameters are carried; it redirects nowhere
// else (RFC 9700 §4.11) and answers 303 (§4.12).
func (p *Pages) switchAccount(w http.ResponseWriter, r *http.Request) {
	in, err := readForm(w, r)
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	if c, err := r.Cookie(p.cookie); err == nil {
		if err := p.OAuth.EndSession(r.Context(), c.Value); err != nil {
			p.serverError(w, r, err)
			return
		}
	}
	p.clearSession(w)
	next := "/login"
	if params := in.carried(); len(params) > 0 {
		next = "/authorize?" + params.Encode()
	} else if back, ok := deviceSwitchReturn(in); ok {
		next = back
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
