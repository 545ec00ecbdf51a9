package main

import (
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser plays a user agent: a cookie jar, and no automatic redirects, so
// that a test sees every hop.
type browser struct {
	t    testing.TB
	c    *http.Client
	base string
	// header is sent with every request (an X-Forwarded-For that a proxy
	// in front of the server would add).
	header map[string]string
}

func newBrowser(t testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// newBrowserFrom is a browser whose connections come from the loopback
// address ip.
func newBrowserFrom(t testing.TB, base, ip string) *browser {
	b := newBrowser(t, base)
	b.c.Transport = fromAddr(ip).Transport
	return b
}

// fromAddr returns a client whose connections come from the loopback
// address ip: on Linux every address of 127.0.0.0/8 is the loopback
// interface, so a test can play many clients at once.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

type page struct {
	status   int
	header   http.Header
	body     string
	location string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	for k, v := range b.header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body), location: resp.Header.Get("Location")}
}

func (b *browser) get(target string) page {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.base + target
	}
	req, _ := http.NewRequestWithContext(b.t.Context(), "GET", target, nil)
	return b.do(req)
}

// post submits a form as a same-origin browser does.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(b.t.Context(), "POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formCT)
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hidden returns the hidden fields of a page's form.
func hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// login fills in the login page p.
func (b *browser) login(p page, username, password string) page {
	b.t.Helper()
	if p.status != 200 || !strings.Contains(p.body, `name="password"`) {
		b.t.Fatalf("not a login page: %d %s", p.status, p.location)
	}
	form := hidden(p.body)
	form.Set("username", username)
	form.Set("password", password)
	return b.post("/login", form)
}

// decide answers the consent page p with decision.
func (b *browser) decide(p page, decision string) page {
	b.t.Helper()
	if p.status != 200 || !strings.Contains(p.body, `name="decision"`) {
		b.t.Fatalf("not a consent page: %d %s", p.status, p.location)
	}
	form := hidden(p.body)
	form.Set("decision", decision)
	return b.post("/authorize", form)
}

// authorize walks an authorization URL to the redirect to the app: login
// when asked, consent (allow) when asked. It returns the final redirect.
func (b *browser) authorize(authURL, username, password string) page {
	b.t.Helper()
	p := b.get(authURL)
	for range 4 {
		switch {
		case p.location != "" && !strings.HasPrefix(p.location, "/"):
			return p
		case p.location != "":
			p = b.get(p.location)
		case strings.Contains(p.body, `name="password"`):
			p = b.login(p, username, password)
		case strings.Contains(p.body, `name="decision"`):
			p = b.decide(p, "allow")
		default:
			b.t.Fatalf("unexpected page %d: %.300s", p.status, p.body)
		}
	}
	b.t.Fatal("the flow did not end in a redirect to the app")
	return page{}
}

// callback parses the query of a redirect to the app.
func callback(t testing.TB, p page) url.Values {
	t.Helper()
	if p.status != http.StatusFound && p.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a 302/303 redirect", p.status)
	}
	u, err := url.Parse(p.location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
