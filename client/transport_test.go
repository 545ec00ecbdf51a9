package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/client"
	"golang.org/x/oauth2"
)

type staticSource string

func (s staticSource) Token(context.Context) (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: string(s), TokenType: "Bearer"}, nil
}

// recorder is a resource server that records what it received.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	auth   []string
	urls   []string
	bodies []string
}

func newRecorder(t *testing.T, h http.HandlerFunc, tls bool) *recorder {
	r := &recorder{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.auth = append(r.auth, req.Header.Get("Authorization"))
		r.urls = append(r.urls, req.URL.String())
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		if h != nil {
			h(w, req)
		}
	})
	if tls {
		r.Server = httptest.NewTLSServer(handler)
	} else {
		r.Server = httptest.NewServer(handler)
	}
	t.Cleanup(r.Close)
	return r
}

const canary = "at-canary-8c1f"

// BCP-4.3.2-a: the token goes in the Authorization header only.
func TestBCP_4_3_2_a_TokenOnlyInHeader(t *testing.T) {
	rs := newRecorder(t, nil, false)
	c := client.NewClient(staticSource(canary))
	resp, err := c.Post(rs.URL+"/api?x=1", "application/x-www-form-urlencoded", strings.NewReader("a=b"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if rs.auth[0] != "Bearer "+canary {
		t.Errorf("Authorization %q", rs.auth[0])
	}
	if strings.Contains(rs.urls[0], canary) || strings.Contains(rs.urls[0], "access_token") || strings.Contains(rs.bodies[0], canary) {
		t.Errorf("the token is in the URL %q or body %q", rs.urls[0], rs.bodies[0])
	}
}

// A redirect to another origin carries no Authorization; one on the same
// origin does.
func TestRedirectToAnotherOriginCarriesNoToken(t *testing.T) {
	evil := newRecorder(t, nil, false)
	// Same host (127.0.0.1), another port: another origin, though Go's
	// http.Client would forward Authorization to it by itself.
	rs := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/landed", http.StatusFound)
		}
	}, false)
	for _, preset := range []string{"", "Bearer set-by-the-caller"} {
		t.Run("preset "+preset, func(t *testing.T) {
			evil.auth, rs.auth = nil, nil
			c := client.NewClient(staticSource(canary))
			for _, p := range []string{"/away", "/here"} {
				req, _ := http.NewRequest("GET", rs.URL+p, nil)
				if preset != "" {
					req.Header.Set("Authorization", preset)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if len(evil.auth) != 1 || evil.auth[0] != "" {
				t.Errorf("the other origin received Authorization %q", evil.auth)
			}
			if len(rs.auth) != 3 || rs.auth[2] != "Bearer "+canary {
				t.Errorf("same-origin redirect: %q", rs.auth)
			}
		})
	}
}

// From https to http on the same host: another origin, no token.
func TestRedirectFromHTTPSToHTTPCarriesNoToken(t *testing.T) {
	plain := newRecorder(t, nil, false)
	secure := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			http.Redirect(w, r, plain.URL+"/x", http.StatusFound)
		}
	}, true)
	c := &http.Client{Transport: &client.Transport{Source: staticSource(canary), Base: secure.Client().Transport}}
	resp, err := c.Get(secure.URL + "/down")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if secure.auth[0] != "Bearer "+canary || plain.auth[0] != "" {
		t.Errorf("https %q, http %q", secure.auth, plain.auth)
	}
}

type countingRT struct{ n int }

func (c *countingRT) RoundTrip(*http.Request) (*http.Response, error) {
	c.n++
	return nil, errors.New("sent")
}

// O21-7.1.3.2-a: no token over plain http except to loopback; nothing is
// sent.
func TestO21_7_1_3_2_a_NoTokenOverPlainHTTP(t *testing.T) {
	base := &countingRT{}
	c := &http.Client{Transport: &client.Transport{Source: staticSource(canary), Base: base}}
	for _, u := range []string{"http://api.example.test/x", "http://10.0.0.1/x", "http://localhost.evil.test/"} {
		_, err := c.Get(u)
		if !errors.Is(err, client.ErrInsecureTarget) {
			t.Errorf("%s: %v", u, err)
		}
	}
	if base.n != 0 {
		t.Errorf("%d requests were sent", base.n)
	}
}
