package client_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse/client"
)

// A command-line app signs in through the system browser on a loopback
// redirect (registered as http://127.0.0.1/callback; the port is chosen
// at each login), or with the device flow where there is no browser
// (--no-browser, or a server over SSH). Its tokens go to the OS keyring,
// and to an encrypted file where there is no keyring.
func ExamplePublicApp_Login() {
	noBrowser := flag.Bool("no-browser", false, "sign in on another device (the device flow)")
	flag.Parse()
	ctx := context.Background()

	provider, err := client.Discover(ctx, "https://id.example.com")
	if err != nil {
		log.Fatal(err)
	}
	app := &client.PublicApp{Provider: provider, ClientID: "app_cli", RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"read"}}

	var opts []client.NativeOption
	if *noBrowser {
		opts = append(opts, client.NoBrowser())
	}
	s, err := app.Login(ctx, client.PrintDeviceCode(os.Stderr), opts...)
	switch {
	case errors.Is(err, client.ErrAccessDenied):
		log.Fatal("you declined; nothing was saved")
	case err != nil:
		log.Fatal(err) // ErrLoginTimeout, ErrDeviceCodeExpired, ErrState, ...
	}

	// The keyring, or an encrypted file store when there is none.
	dir, _ := os.UserConfigDir()
	key, err := client.KeyFromFile(filepath.Join(dir, "mycli", "token.key"))
	if err != nil {
		log.Fatal(err)
	}
	keys, _ := client.NewKeys(key)
	files, err := client.NewFileStore(filepath.Join(dir, "mycli", "tokens"), keys)
	if err != nil {
		log.Fatal(err)
	}
	store, err := client.NewKeyringStore("com.example.mycli", client.WithFallback(files, slog.Default()))
	if err != nil {
		log.Fatal(err)
	}
	who := client.TokenKey{Issuer: provider.Issuer, ClientID: app.ClientID}
	if err := store.Save(ctx, who, s.Token); err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in; granted:", s.Scopes)
	// Later: app.TokenSource(store, who) hands out fresh access tokens.
}
