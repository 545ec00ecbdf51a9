package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var testClients = Clients{
	Confidential: map[string]string{"app_svc": "gth_cs_secret", "app_rs": "gth_cs_other"},
	Public:       []string{"app_spa"},
}

func ceilingRequest(t *testing.T, method, target, auth, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Cookie", "gatehouse_session=s")
	w := httptest.NewRecorder()
	NewCeiling(testClients).ServeHTTP(w, req)
	return w
}

func TestCeilingAnswers(t *testing.T) {
	svc := Credentials{"app_svc", "gth_cs_secret"}.basic()
	tests := []struct {
		name, method, target, auth, body string
		status                           int
		wantJSON                         []string // members the body must have
	}{
		{"client credentials", "POST", "/token", svc, "grant_type=client_credentials&scope=read", 200, []string{"access_token", "token_type", "expires_in"}},
		{"wrong secret", "POST", "/token", Credentials{"app_svc", "gth_cs_wrong"}.basic(), "grant_type=client_credentials", 401, []string{"error"}},
		{"another app's secret", "POST", "/token", Credentials{"app_svc", "gth_cs_other"}.basic(), "grant_type=client_credentials", 401, []string{"error"}},
		{"unknown client", "POST", "/token", Credentials{"app_x", "gth_cs_secret"}.basic(), "grant_type=client_credentials", 401, []string{"error"}},
		{"no client", "POST", "/token", "", "grant_type=client_credentials", 401, []string{"error"}},
		{"refresh", "POST", "/token", svc, "grant_type=refresh_token&refresh_token=r", 200, []string{"access_token", "refresh_token"}},
		{"refresh without token", "POST", "/token", svc, "grant_type=refresh_token", 400, []string{"error"}},
		{"code exchange by a public client", "POST", "/token", "", "grant_type=authorization_code&client_id=app_spa&code=c&code_verifier=v&redirect_uri=https://a.example/cb", 200, []string{"access_token", "refresh_token"}},
		{"code exchange without verifier", "POST", "/token", "", "grant_type=authorization_code&client_id=app_spa&code=c&redirect_uri=https://a.example/cb", 400, []string{"error"}},
		{"unknown grant", "POST", "/token", svc, "grant_type=password", 400, []string{"error"}},
		{"introspect", "POST", "/introspect", svc, "token=t", 200, []string{"active"}},
		{"introspect without token", "POST", "/introspect", svc, "", 400, []string{"error"}},
		{"introspect by a public client", "POST", "/introspect", "", "client_id=app_unknown&token=t", 401, []string{"error"}},
		{"revoke", "POST", "/revoke", svc, "token=t", 200, nil},
		{"token by GET", "GET", "/token", svc, "", 405, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ceilingRequest(t, tt.method, tt.target, tt.auth, tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if len(tt.wantJSON) == 0 {
				return
			}
			var m map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			for _, k := range tt.wantJSON {
				if _, ok := m[k]; !ok {
					t.Errorf("no %q in %s", k, w.Body)
				}
			}
		})
	}
}

func TestCeilingTokensAreFreshEachTime(t *testing.T) {
	svc := Credentials{"app_svc", "gth_cs_secret"}.basic()
	seen := map[string]bool{}
	for range 100 {
		w := ceilingRequest(t, "POST", "/token", svc, "grant_type=client_credentials")
		tb, err := checkToken(answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}, "token", false)
		if err != nil || seen[tb.AccessToken] {
			t.Fatalf("token %d: %v (repeated: %t)", len(seen), err, seen[tb.AccessToken])
		}
		seen[tb.AccessToken] = true
	}
}

func TestCeilingAuthorize(t *testing.T) {
	ok := url.Values{
		"response_type": {"code"}, "client_id": {"app_spa"}, "redirect_uri": {"https://a.example/cb"},
		"state": {"st"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"},
	}
	w := ceilingRequest(t, "GET", "/authorize?"+ok.Encode(), "", "")
	a := answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	if code, err := checkRedirect(a, "https://a.example/cb", "st"); err != nil || code == "" {
		t.Fatalf("redirect: %v", err)
	}
	for _, bad := range []struct{ param, value string }{
		{"client_id", "app_svc"}, {"code_challenge_method", "plain"}, {"response_type", "token"}, {"code_challenge", ""},
	} {
		q := url.Values{}
		for k, v := range ok {
			q[k] = v
		}
		q.Set(bad.param, bad.value)
		if w := ceilingRequest(t, "GET", "/authorize?"+q.Encode(), "", ""); w.Code != http.StatusBadRequest {
			t.Errorf("%s=%q: status %d, want 400", bad.param, bad.value, w.Code)
		}
	}
}
