package main

import (
	"fmt"

	"github.com/gatehouse/gatehouse/secret"
)

func newDemoPassword() string { return secret.New(secret.Session) }

func printDevWelcome(e env, issuer, backendID, backendSecret, spaID, password string) {
	fmt.Fprintf(e.stdout, `Gatehouse dev server: %[1]s
Demo data created (shown once; it is not logged):
  user        demo / %[5]s
  Demo Backend (confidential, client_credentials)
    client_id      %[2]s
    client_secret  %[3]s
  Demo SPA (public)
    client_id      %[4]s

Try it from another terminal (printf is a shell builtin: the secret stays out of argv):
  export CLIENT_ID=%[2]s CLIENT_SECRET=%[3]s
  printf 'user = "%%s:%%s"\n' "$CLIENT_ID" "$CLIENT_SECRET" |
    curl -s -K - -d grant_type=client_credentials -d scope=read %[1]s/token
  curl -s %[1]s/.well-known/oauth-authorization-server

`, issuer, backendID, backendSecret, spaID, password)
}
