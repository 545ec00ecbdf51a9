package main

import "testing"

// BBA-6.3.3.4-a: the token and revocation endpoints answer CORS for the
// origins of public apps' redirect URIs only, never with a wildcard or with
// credentials; BCP-2.6-e: the authorization endpoint never does.
func TestBBA_6_3_3_4_a_CORSForPublicAppOrigins(t *testing.T) {
	f := newFlowFixture(t)
	for _, path := range []string{"/token", "/revoke"} {
		for origin, want := range map[string]string{
			"https://spa.example":    "https://spa.example",
			"https://evil.example":   "",
			"https://client.example": "", // a confidential app's origin: no browser calls
			"null":                   "",
		} {
			for _, method := range []string{"OPTIONS", "POST"} {
				r := send(t, method, f.srv.URL+path, formCT, "", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"})
				if got := r.header.Get("Access-Control-Allow-Origin"); got != want {
					t.Errorf("%s %s from %s: ACAO %q, want %q", method, path, origin, got, want)
				}
				if r.header.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("%s %s: credentials allowed cross-origin", method, path)
				}
			}
		}
	}
	for _, method := range []string{"GET", "OPTIONS"} {
		r := send(t, method, f.srv.URL+"/authorize?client_id="+f.spa.ClientID, "", "", map[string]string{"Origin": "https://spa.example"})
		if r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s /authorize has CORS (BCP-2.6-e)", method)
		}
	}
}
