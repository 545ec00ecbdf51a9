package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse/client"
)

// A web backend: discover the server, configure a confidential app with
// its secret from the environment, and serve the login and callback.
func ExampleNewWebFlow() {
	ctx := context.Background()
	provider, err := client.Discover(ctx, "https://id.example.com")
	if err != nil {
		log.Fatal(err) // another issuer, an endpoint elsewhere, no TLS, no PKCE S256
	}
	secret, err := client.SecretFromEnv("EXAMPLE_CLIENT_SECRET")
	if err != nil {
		log.Fatal(err)
	}
	app := &client.ConfidentialApp{
		Provider:    provider,
		ClientID:    "app_0123",
		RedirectURL: "https://app.example.com/callback",
		Scopes:      []string{"read"}, // the least the app needs; required
		Secret:      secret,
	}
	var store client.TokenStore = &client.MemoryStore{} // an encrypted store in production

	flow, err := client.NewWebFlow(app,
		func(w http.ResponseWriter, r *http.Request, s *client.Session) error {
			if len(s.Missing) > 0 {
				log.Printf("the user granted less than asked: %v missing", s.Missing)
			}
			user := "user-42" // the app's own idea of who signed in
			key := client.TokenKey{Issuer: provider.Issuer, ClientID: app.ClientID, Subject: user}
			// Set the app's own session cookie on w here; the flow then
			// redirects (303) to s.ReturnTo, without code or state.
			return store.Save(r.Context(), key, s.Token)
		},
		func(w http.ResponseWriter, r *http.Request, err error) {
			var denied *client.AuthError
			if errors.As(err, &denied) && denied.Code == "access_denied" {
				http.Error(w, "You declined; nothing was shared.", http.StatusForbidden)
				return
			}
			log.Printf("login failed: %v", err) // never holds a token or the secret
			http.Error(w, "The login did not succeed.", http.StatusBadRequest)
		})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /login", flow.Login())       // /login?returnTo=/settings
	mux.Handle("GET /callback", flow.Callback()) // the registered redirect URL
	log.Fatal(http.ListenAndServe(":8080", mux))
}

// A command-line or native app: a public app has no secret. Its tokens
// live in a TokenStore; the source refreshes them (once for all callers,
// saving the rotated refresh token first) and the client sends them only
// in the Authorization header.
func ExamplePublicApp_TokenSource() {
	ctx := context.Background()
	provider, err := client.Discover(ctx, "https://id.example.com")
	if err != nil {
		log.Fatal(err)
	}
	app := &client.PublicApp{
		Provider:    provider,
		ClientID:    "app_cli",
		RedirectURL: "http://127.0.0.1:49152/callback",
		Scopes:      []string{"read", "write"},
	}
	store := &client.MemoryStore{}
	key := client.TokenKey{Issuer: provider.Issuer, ClientID: app.ClientID, Subject: "alice"}
	src := app.TokenSource(store, key)

	resp, err := client.NewClient(src).Get("https://api.example.com/me")
	if errors.Is(err, client.ErrLoginRequired) {
		fmt.Println("please sign in again")
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}

// A native app runs the flow itself: AuthCodeURL gives the URL to open in
// the system browser and the Transaction to keep; Exchange checks the
// response (state, iss) before it redeems the code.
func ExamplePublicApp_Exchange() {
	ctx := context.Background()
	provider, err := client.Discover(ctx, "https://id.example.com")
	if err != nil {
		log.Fatal(err)
	}
	app := &client.PublicApp{Provider: provider, ClientID: "app_desktop", RedirectURL: "com.example.desktop:/oauth2redirect", Scopes: []string{"read"}}
	authURL, tx, err := app.AuthCodeURL("")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("open in the system browser:", authURL)

	// ... the operating system hands the redirect back to the app:
	redirect, _ := url.Parse("com.example.desktop:/oauth2redirect?code=...&state=...&iss=...")
	s, err := app.Exchange(ctx, tx, redirect.Query())
	if err != nil {
		log.Fatal(err) // ErrState, ErrResponseIssuer, *client.AuthError, ...
	}
	fmt.Println("granted:", s.Scopes)
}

// Logout revokes the refresh and access tokens at the server and always
// deletes them locally; a failed revocation is reported.
func ExamplePersistentSource_Logout() {
	ctx := context.Background()
	provider, err := client.Discover(ctx, "https://id.example.com")
	if err != nil {
		log.Fatal(err)
	}
	app := &client.PublicApp{Provider: provider, ClientID: "app_cli", RedirectURL: "http://127.0.0.1:49152/callback", Scopes: []string{"read"}}
	src := app.TokenSource(&client.MemoryStore{}, client.TokenKey{Issuer: provider.Issuer, ClientID: app.ClientID, Subject: "alice"})
	if err := src.Logout(ctx); err != nil {
		// The local copy is gone; the server may still honour the tokens
		// until they expire.
		log.Printf("logout: %v", err)
	}
}
