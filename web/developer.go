package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oauth"
)

// The developer portal (issue 13 item 2): a developer's apps and each
// app's "OAuth & Permissions" page. Every read and action goes through
// the oauth package's Owned*/AsDeveloper operations, which hold the
// ownership rule: a user who is not a developer, or does not own the app,
// gets the 404 page, the same as for an app that does not exist.

// developerAppsPath is the developer's list of apps; a login may return to
// it and to an app's page under it.
const developerAppsPath = "/developer/apps"

// developerReturn matches the portal pages a login may return to: the
// list, or one app's page by a client_id made of URL-safe characters.
var developerReturn = regexp.MustCompile(`^/developer/apps(/[A-Za-z0-9_-]{1,128})?$`)

// developerRoutes are the portal's pages and forms.
func (p *Pages) developerRoutes() []route {
	const app = developerAppsPath + "/{client_id}"
	return []route{
		{developerAppsPath, p.developerApps, p.createApp},
		{app, p.appPage, nil},
		{app + "/redirect-uris/add", nil, p.appAction(addRedirectURI)},
		{app + "/redirect-uris/remove", nil, p.appAction(removeRedirectURI)},
		{app + "/profile", nil, p.appAction(updateProfile)},
		{app + "/credentials/create", nil, p.appAction(createCredential)},
		{app + "/credentials/rotate", nil, p.appAction(rotateCredential)},
		{app + "/credentials/delete", nil, p.appAction(deleteCredential)},
		{app + "/delete", nil, p.deleteApp},
	}
}

// portalError answers an error of a portal operation: the 404 page for an
// app the user may not see, the page failure otherwise. It reports
// whether err was a refusal, which the caller shows on its page instead.
func (p *Pages) portalError(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case errors.Is(err, gatehouse.ErrNotFound):
		p.notFound(w, r)
	case oauth.Refused(err):
		return true
	default:
		p.serverError(w, r, err)
	}
	return false
}

type scopeChoice struct {
	Name, Description string
	Checked           bool
}

type developerAppsPage struct {
	Username, Done string
	Apps           []gatehouse.App
	Scopes         []scopeChoice
	Error          string
	Form           createAppForm
}

type createAppForm struct {
	Name, Type, RedirectURI string
}

// developerApps lists the developer's apps, with the form that creates one.
func (p *Pages) developerApps(w http.ResponseWriter, r *http.Request) {
	u, ok := p.signedIn(w, r, developerAppsPath)
	if !ok {
		return
	}
	done := ""
	if r.URL.Query().Get("done") == "deleted" {
		done = "The app was deleted: its tokens, grants and credentials no longer work."
	}
	p.renderApps(w, r, u, http.StatusOK, createAppForm{Type: string(gatehouse.Confidential)}, nil, "", done)
}

func (p *Pages) renderApps(w http.ResponseWriter, r *http.Request, u gatehouse.User, status int, form createAppForm, checked []string, msg, done string) {
	apps, err := p.OAuth.OwnedApps(r.Context(), u)
	if err != nil {
		p.portalError(w, r, err)
		return
	}
	scopes, err := p.OAuth.RegisteredScopes(r.Context())
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	data := developerAppsPage{Username: u.Username, Done: done, Apps: apps, Error: msg, Form: form}
	for _, sc := range scopes {
		data.Scopes = append(data.Scopes, scopeChoice{Name: sc.Name, Description: sc.Description, Checked: slices.Contains(checked, sc.Name)})
	}
	p.render(w, r, status, "developer_apps", data)
}

// secretPage shows a new client secret, once: it is served no-store (the
// page headers' Cache-Control) and answers the POST that made it, since a
// redirect would have to carry the secret.
type secretPage struct {
	AppName, ClientID, CredentialName, Secret, Heading string
}

// createApp registers an app owned by the developer; a confidential app's
// first secret is shown on the page that answers the POST, and never again.
func (p *Pages) createApp(w http.ResponseWriter, r *http.Request) {
	in, err := readForm(w, r)
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	u, ok := p.signedIn(w, r, developerAppsPath)
	if !ok {
		return
	}
	form := createAppForm{Name: in.params["name"], Type: in.params["type"], RedirectURI: strings.TrimSpace(in.params["redirect_uri"])}
	scopes := in.raw["scope"]
	spec := oauth.AppSpec{Name: form.Name, Type: gatehouse.AppType(form.Type), Scopes: scopes}
	if spec.Scopes == nil {
		spec.Scopes = []string{}
	}
	if form.RedirectURI != "" {
		spec.RedirectURIs = []string{form.RedirectURI}
	}
	app, sec, err := p.OAuth.CreateAppAsDeveloper(r.Context(), u, spec)
	if err != nil {
		if p.portalError(w, r, err) {
			p.renderApps(w, r, u, http.StatusBadRequest, form, scopes, err.Error(), "")
		}
		return
	}
	if sec == "" {
		http.Redirect(w, r, appPath(app.ClientID)+"?done=created", http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "developer_secret", secretPage{Heading: "App created", AppName: app.Name, ClientID: app.ClientID, CredentialName: "initial", Secret: sec})
}

func appPath(clientID string) string { return developerAppsPath + "/" + clientID }

type credentialLine struct {
	ID                                  int64
	Name, Hint                          string
	Created, Age, LastUsed, ExpiresText string
	Expired                             bool
}

type appPageData struct {
	App                            gatehouse.App
	Scopes, DefaultScopes, Grants  string
	Confidential                   bool
	Credentials                    []credentialLine
	Error, Done                    string
	MaxOverlapDays, DefaultOverlap int
}

// appDone are the fixed confirmations after an action (?done=…).
var appDone = map[string]string{
	"created":            "The app was created.",
	"redirect-added":     "The redirect URI was added.",
	"redirect-removed":   "The redirect URI was removed.",
	"profile":            "The profile was saved.",
	"credential-deleted": "The credential was deleted, and every token of this app was revoked.",
}

// appPage is an app's "OAuth & Permissions" page.
func (p *Pages) appPage(w http.ResponseWriter, r *http.Request) {
	clientID := r.PathValue("client_id")
	u, ok := p.signedIn(w, r, returnFor(clientID))
	if !ok {
		return
	}
	p.renderApp(w, r, u, clientID, http.StatusOK, "", appDone[r.URL.Query().Get("done")])
}

// returnFor is where a login returns to for clientID's pages: the app's
// page when its client_id is one the allow-list accepts, else the list.
func returnFor(clientID string) string {
	if back := appPath(clientID); developerReturn.MatchString(back) {
		return back
	}
	return developerAppsPath
}

func (p *Pages) renderApp(w http.ResponseWriter, r *http.Request, u gatehouse.User, clientID string, status int, msg, done string) {
	app, creds, err := p.OAuth.OwnedCredentials(r.Context(), u, clientID)
	if err != nil {
		if p.portalError(w, r, err) {
			p.serverError(w, r, err) // no read is refused
		}
		return
	}
	now := p.OAuth.Now()
	data := appPageData{App: app, Scopes: strings.Join(app.Scopes, " "), DefaultScopes: strings.Join(app.DefaultScopes, " "),
		Grants: strings.Join(app.Grants, ", "), Confidential: app.Type == gatehouse.Confidential, Error: msg, Done: done,
		MaxOverlapDays: int(oauth.MaxOverlap / (24 * time.Hour)), DefaultOverlap: 7}
	for _, c := range creds {
		line := credentialLine{ID: c.ID, Name: c.Name, Hint: c.Hint, Created: c.CreatedAt.UTC().Format(dateFormat),
			Age: age(now.Sub(c.CreatedAt)), LastUsed: "never", ExpiresText: "never", Expired: c.Expired(now)}
		if !c.LastUsedAt.IsZero() {
			line.LastUsed = c.LastUsedAt.UTC().Format(dateFormat)
		}
		if !c.ExpiresAt.IsZero() {
			line.ExpiresText = c.ExpiresAt.UTC().Format(dateFormat)
		}
		data.Credentials = append(data.Credentials, line)
	}
	p.render(w, r, status, "developer_app", data)
}

// age says a duration in whole days, or "less than a day".
func age(d time.Duration) string {
	switch days := int(d / (24 * time.Hour)); days {
	case 0:
		return "less than a day"
	case 1:
		return "1 day"
	default:
		return strconv.Itoa(days) + " days"
	}
}

// appActionFunc does one action on the app clientID for user u. It
// returns the ?done= key to redirect with, or a page it rendered itself
// (a new secret) as rendered=true.
type appActionFunc func(p *Pages, w http.ResponseWriter, r *http.Request, u gatehouse.User, clientID string, form map[string]string) (done string, rendered bool, err error)

// errMismatch is a refusal of the pages: the typed confirmation did not
// match, and nothing was changed.
var errMismatch = oauth.Refusal("the name you typed does not match, so nothing was deleted")

// appAction serves one POST form of an app's page: it reads the form,
// requires sign-in, runs the action and answers 303 back to the page, or
// the page again with the refusal's message and nothing changed.
func (p *Pages) appAction(do appActionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in, err := readForm(w, r)
		if err != nil || len(in.repeated) > 0 {
			p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
			return
		}
		clientID := r.PathValue("client_id")
		u, ok := p.signedIn(w, r, returnFor(clientID))
		if !ok {
			return
		}
		done, rendered, err := do(p, w, r, u, clientID, in.params)
		if err != nil {
			if p.portalError(w, r, err) {
				p.renderApp(w, r, u, clientID, http.StatusBadRequest, err.Error(), "")
			}
			return
		}
		if !rendered {
			http.Redirect(w, r, appPath(clientID)+"?done="+done, http.StatusSeeOther)
		}
	}
}

func addRedirectURI(p *Pages, _ http.ResponseWriter, r *http.Request, u gatehouse.User, clientID string, form map[string]string) (string, bool, error) {
	_, _, err := p.OAuth.AddRedirectURI(r.Context(), u, clientID, strings.TrimSpace(form["redirect_uri"]))
	return "redirect-added", false, err
}

func removeRedirectURI(p *Pages, _ http.ResponseWriter, r *http.Request, u gatehouse.User, clientID string, form map[string]string) (string, bool, error) {
	_, _, err := p.OAuth.RemoveRedirectURI(r.Context(), u, clientID, form["redirect_uri"])
	return "redirect-removed", false, err
}

func updateProfile(p *Pages, _ http.ResponseWriter, r *http.Request, u gatehouse.User, clientID string, form map[string]string) (string, bool, error) {
	field := func(k string) *string { v := strings.TrimSpace(form[k]); return &v }
	_, _, err := p.OAuth.UpdateOwnedApp(r.Context(), u, clientID, oauth.AppChange{
		Description: field("description"), HomepageURL: field("homepage_url"), PrivacyURL: field("privacy_url"), TermsURL: field("terms_url"),
	})
	return "profile", false, err
}

func createCredential(p *Pages, w http.ResponseWriter, r *http.Request, u gatehouse.User, clientID string, form map[string]string) (string, bool, error) {
	sec, c, err := p.OAuth.CreateOwnedCredential(r.Context(), u, clientID, strings.TrimSpace(form["name"]), time.Time{})
	if err != nil {
		return "", false, err
	}
	p.showSecret(w, r, u, clientID, "Credential created", c.Name, sec)
	return "", true, nil
}

func rotateCredential(p *Pages, w http.ResponseWriter, r *http.Request, u gatehouse.User, clientID string, form map[string]string) (string, bool, error) {
	id, err := credentialID(form)
	if err != nil {
		return "", false, err
	}
	days, err := strconv.Atoi(strings.TrimSpace(form["overlap_days"]))
	if err != nil || days < 0 || days > int(oauth.MaxOverlap/(24*time.Hour)) {
		// Bounded before it becomes a Duration, which would wrap.
		return "", false, oauth.Refusal(fmt.Sprintf("the overlap is a whole number of days from 0 to %d", int(oauth.MaxOverlap/(24*time.Hour))))
	}
	sec, next, _, err := p.OAuth.RotateOwnedCredential(r.Context(), u, clientID, id, time.Duration(days)*24*time.Hour, strings.TrimSpace(form["name"]))
	if err != nil {
		return "", false, err
	}
	p.showSecret(w, r, u, clientID, "Credential rotated", next.Name, sec)
	return "", true, nil
}

// deleteCredential deletes a credential as compromised, revoking every
// token of the app, once the credential's name was typed.
func deleteCredential(p *Pages, _ http.ResponseWriter, r *http.Request, u gatehouse.User, clientID string, form map[string]string) (string, bool, error) {
	id, err := credentialID(form)
	if err != nil {
		return "", false, err
	}
	_, creds, err := p.OAuth.OwnedCredentials(r.Context(), u, clientID)
	if err != nil {
		return "", false, err
	}
	for _, c := range creds {
		if c.ID == id && c.Name != form["confirm"] {
			return "", false, errMismatch
		}
	}
	_, _, err = p.OAuth.RevokeOwnedCredential(r.Context(), u, clientID, id)
	return "credential-deleted", false, err
}

func credentialID(form map[string]string) (int64, error) {
	id, err := strconv.ParseInt(form["credential_id"], 10, 64)
	if err != nil || id <= 0 {
		return 0, oauth.Refusal("the form must name one credential")
	}
	return id, nil
}

func (p *Pages) showSecret(w http.ResponseWriter, r *http.Request, u gatehouse.User, clientID, heading, name, sec string) {
	app, err := p.OAuth.OwnedApp(r.Context(), u, clientID)
	if err != nil {
		// Made a moment ago: the secret must still be shown.
		app = gatehouse.App{ClientID: clientID}
	}
	p.render(w, r, http.StatusOK, "developer_secret", secretPage{Heading: heading, AppName: app.Name, ClientID: clientID, CredentialName: name, Secret: sec})
}

// deleteApp deletes the app once its client_id was typed; everything of
// the app stops working at once.
func (p *Pages) deleteApp(w http.ResponseWriter, r *http.Request) {
	in, err := readForm(w, r)
	if err != nil || len(in.repeated) > 0 {
		p.errorPage(w, r, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	clientID := r.PathValue("client_id")
	u, ok := p.signedIn(w, r, returnFor(clientID))
	if !ok {
		return
	}
	app, err := p.OAuth.OwnedApp(r.Context(), u, clientID)
	if err != nil {
		p.portalError(w, r, err)
		return
	}
	if in.params["confirm"] != app.ClientID {
		p.renderApp(w, r, u, clientID, http.StatusBadRequest, "The client_id you typed does not match, so the app was not deleted.", "")
		return
	}
	if err := p.OAuth.DeleteOwnedApp(r.Context(), u, clientID); err != nil {
		p.portalError(w, r, err)
		return
	}
	http.Redirect(w, r, developerAppsPath+"?done=deleted", http.StatusSeeOther)
}
