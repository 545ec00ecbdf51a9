package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/gatehouse/gatehouse/oauth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/style.css
var styleCSS []byte

// pageNames are the pages; each is parsed with the layout once, at start-up.
var pageNames = []string{"login", "consent", "error", "home", "logged_out", "dev_callback", "account_apps", "developer_apps", "developer_app", "developer_secret", "device"}

// parseTemplates parses every page with the layout; brand gives the layout
// the platform's name and logo when a page is rendered.
func parseTemplates(brand func() Brand) (map[string]*template.Template, error) {
	out := make(map[string]*template.Template, len(pageNames))
	funcs := template.FuncMap{"brand": brand}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// contentSecurityPolicy allows no script at all, styles from this origin
// only, and no framing (DESIGN invariant 9; RFC 9700 §4.16).
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"

// pageHeaders are sent with every page (DESIGN invariant 9; RFC 9700
// §4.2.4, §4.16).
func pageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// frontChannel sets the page headers before next runs, so that whatever
// next answers (a page, a redirect, a plain error) carries them; next may
// still relax Cache-Control for a public asset.
func frontChannel(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

// render writes a page. It renders into a buffer first, so that a template
// error becomes a clean 500 and never a half-written page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.templates[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		p.Log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString("<!doctype html><title>Error</title><p>Something went wrong.</p>")
	}
	pageHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	Title   string
	Message string
	// Note says why the user was not sent back to the app, when a request
	// from one failed.
	Note string
}

const appNote = "You were not sent back to the app, because it could not be verified. If you followed a link, it may be broken or forged."

func (p *Pages) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	p.render(w, r, status, "error", errorPage{Title: title, Message: msg, Note: appNote})
}

// notFound is the 404 page of every path that nothing else serves.
func (p *Pages) notFound(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusNotFound, "error", errorPage{Title: "Page not found", Message: "There is no page at this address."})
}

// methodNotAllowed is the 405 page of a page route asked with another
// method; allow lists the methods it serves.
func (p *Pages) methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		p.render(w, r, http.StatusMethodNotAllowed, "error", errorPage{Title: "Method not allowed", Message: "This address does not accept that kind of request."})
	}
}

// serverError logs err once and shows a page without detail.
func (p *Pages) serverError(w http.ResponseWriter, r *http.Request, err error) {
	p.Log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
	if oauth.Unavailable(err) {
		w.Header().Set("Retry-After", "1")
		p.errorPage(w, r, http.StatusServiceUnavailable, "Please try again", "The server could not reach its database. Please try again in a moment.")
		return
	}
	p.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The server could not complete the request. Please try again.")
}

func (p *Pages) style(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(styleCSS)
}
