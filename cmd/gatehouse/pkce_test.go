package main

import (
	"net/url"
	"testing"
)

// O21-4.1.2.1-a, PKCE-4.4.1-a, BCP-4.8.2-a: every authorization request
// carries an S256 challenge; without one, with plain, with an unknown or an
// omitted method, the app gets an error redirect with iss and no code, so a
// verifier can never meet a code that had no challenge.
func TestO21_4_1_2_1_a_PKCEIsMandatory(t *testing.T) {
	f := newFlowFixture(t)
	challenge := "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	cases := map[string]url.Values{
		"no challenge":            {},
		"plain":                   {"code_challenge": {challenge}, "code_challenge_method": {"plain"}},
		"S512":                    {"code_challenge": {challenge}, "code_challenge_method": {"S512"}},
		"method omitted":          {"code_challenge": {challenge}},
		"empty challenge":         {"code_challenge": {""}, "code_challenge_method": {"S256"}},
		"challenge not base64url": {"code_challenge": {challenge[:42] + "+"}, "code_challenge_method": {"S256"}},
	}
	for name, extra := range cases {
		for _, app := range []createdApp{f.web, f.spa} {
			redirect := map[createdApp]string{f.web: "https://client.example/cb", f.spa: "https://spa.example/cb"}[app]
			params := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {redirect}, "state": {"s1"}}
			for k, v := range extra {
				params[k] = v
			}
			b := newBrowser(t, f.srv.URL)
			q := callback(t, b.authorize(f.rawAuthURL(params), f.user, f.password))
			if q.Get("error") != "invalid_request" || q.Get("iss") != f.srv.URL || q.Get("state") != "s1" || q.Has("code") {
				t.Errorf("%s for %s: %v", name, app.ClientID, q)
			}
		}
	}
}
