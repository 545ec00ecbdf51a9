package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"

	"github.com/gatehouse/gatehouse/secret"
)

const demoSPAName = "Demo SPA"

func newDemoPassword() string { return secret.New(secret.Session) }

func printDevWelcome(e env, issuer, backendID, backendSecret, password string) {
	fmt.Fprintf(e.stdout, `Gatehouse dev server: %[1]s
Demo data created (shown once; it is not logged):
  user          demo / %[4]s
  Demo Backend  confidential, client_credentials
    client_id      %[2]s
    client_secret  %[3]s

Client credentials, from another terminal (printf is a shell builtin: the secret stays out of argv):
  export CLIENT_ID=%[2]s CLIENT_SECRET=%[3]s
  printf 'user = "%%s:%%s"\n' "$CLIENT_ID" "$CLIENT_SECRET" |
    curl -s -K - -d grant_type=client_credentials -d scope=read %[1]s/token

`, issuer, backendID, backendSecret, password)
}

// printDevFlow prints an authorization URL for the demo SPA with a fresh
// PKCE pair, so that a newcomer can walk the whole flow in a browser.
func printDevFlow(e env, issuer, spaID string) {
	verifier := secret.New(secret.Session)[7:50] // 43 base62 characters
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {spaID}, "redirect_uri": {issuer + "/dev/callback"},
		"scope": {"read"}, "state": {"demo"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	fmt.Fprintf(e.stdout, `Authorization code flow with PKCE, in a browser (Demo SPA, a public app):
  1. open %[1]s/authorize?%[2]s
  2. sign in as demo, allow, and the dev redirect page shows the code and iss
  3. exchange the code (within 60 s) as the page shows, after:
     export SPA_CLIENT_ID=%[3]s CODE_VERIFIER=%[4]s CODE=<the code>

`, issuer, q.Encode(), spaID, verifier)
}
