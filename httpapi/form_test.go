package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/oauth"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// O21-2.4.1-b: Basic credentials are form-urlencoded before base64.
func TestParseBasicAuth(t *testing.T) {
	cases := []struct {
		name, header, id, secret string
		bad                      bool
	}{
		{name: "plain", header: basic("app_1", "s3cret"), id: "app_1", secret: "s3cret"},
		{name: "lower-case scheme", header: "basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), id: "a", secret: "b"},
		{name: "encoded colon percent plus and UTF-8", header: basic("app%3A1", "p%25%2B%3A%C3%A9"), id: "app:1", secret: "p%+:é"},
		{name: "plus is a space", header: basic("a", "x+y"), id: "a", secret: "x y"},
		{name: "colon in secret splits once", header: basic("a", "b:c"), id: "a", secret: "b:c"},
		{name: "empty secret", header: basic("a", ""), id: "a", secret: ""},
		{name: "bearer", header: "Bearer abc", bad: true},
		{name: "no space", header: "Basic", bad: true},
		{name: "bad base64", header: "Basic !!!", bad: true},
		{name: "no colon", header: "Basic " + base64.StdEncoding.EncodeToString([]byte("abc")), bad: true},
		{name: "empty id", header: basic("", "x"), bad: true},
		{name: "bad escape", header: basic("a%zz", "x"), bad: true},
		{name: "non-canonical base64", header: "Basic YTpi=", bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, sec, err := ParseBasicAuth(c.header)
			if c.bad {
				if err == nil {
					t.Fatalf("accepted %q", c.header)
				}
				return
			}
			if err != nil || id != c.id || sec != c.secret {
				t.Fatalf("got %q %q %v", id, sec, err)
			}
		})
	}
}

func FuzzParseBasicAuth(f *testing.F) {
	f.Add(basic("app_1", "gth_cs_x"))
	f.Add("Basic Og==")
	f.Add("basic ")
	f.Fuzz(func(t *testing.T, h string) {
		id, sec, err := ParseBasicAuth(h)
		if err != nil {
			if id != "" || sec != "" {
				t.Fatal("values returned with an error")
			}
			if strings.Contains(err.Error(), h) && len(h) > 12 {
				t.Fatal("the error repeats the credential")
			}
			return
		}
		if id == "" {
			t.Fatal("empty client_id accepted")
		}
	})
}

func formRequest(method, target, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// O21-3.1-a, O21-3.2-a: strict parsing of protocol forms.
func TestParseForm(t *testing.T) {
	const ct = "application/x-www-form-urlencoded"
	cases := []struct {
		name, target, ct, body string
		status                 int // 0: accepted
	}{
		{"ok", "/token", ct, "grant_type=client_credentials&scope=read", 0},
		{"charset parameter", "/token", ct + "; charset=UTF-8", "a=b", 0},
		{"repeated parameter", "/token", ct, "scope=a&scope=b", 400},
		{"query string", "/token?client_secret=x", ct, "a=b", 400},
		{"json body", "/token", "application/json", `{"a":"b"}`, 400},
		{"no content type", "/token", "", "a=b", 400},
		{"multipart", "/token", "multipart/form-data; boundary=x", "--x--", 400},
		{"bad escape", "/token", ct, "a=%zz", 400},
		{"semicolon", "/token", ct, "a=b;c=d", 400},
		{"too large", "/token", ct, "a=" + strings.Repeat("x", maxFormBytes), 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseForm(httptest.NewRecorder(), formRequest("POST", c.target, c.ct, c.body))
			if c.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *oauth.Error
			if !errors.As(err, &e) || e.Code != oauth.CodeInvalidRequest || e.Status != c.status {
				t.Fatalf("got %v, want invalid_request %d", err, c.status)
			}
		})
	}
	f, err := ParseForm(httptest.NewRecorder(), formRequest("POST", "/token", ct, "scope=&grant_type=x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f["scope"]; ok {
		t.Fatal("an empty parameter is not treated as omitted (OAuth 2.1 §3.1)")
	}
}

func FuzzParseFormBody(f *testing.F) {
	f.Add("grant_type=client_credentials&scope=read")
	f.Add("a=1&a=2")
	f.Add("%")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := parseFormBody(body)
		if err != nil {
			var e *oauth.Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Fatalf("error %v is not a 400 protocol error", err)
			}
			return
		}
		for k, v := range form {
			if v == "" {
				t.Fatalf("empty value kept for %q", k)
			}
		}
	})
}

// O21-2.4-a: one client authentication method per request.
func TestClientAuthRefusesTwoMethods(t *testing.T) {
	r := formRequest("POST", "/token", "", "")
	r.Header.Set("Authorization", basic("a", "b"))
	_, err := clientAuth(r, Form{"client_secret": "b", "client_id": "a"})
	var e *oauth.Error
	if !errors.As(err, &e) || e.Code != oauth.CodeInvalidRequest {
		t.Fatalf("Basic plus client_secret: %v", err)
	}
	_, err = clientAuth(r, Form{"client_id": "other"})
	if !errors.As(err, &e) || e.Code != oauth.CodeInvalidRequest {
		t.Fatalf("Basic plus a different client_id: %v", err)
	}
}
