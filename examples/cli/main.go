// Command cli is an example command-line app on the Gatehouse toolkit:
// it signs in through the system browser (a one-shot loopback listener,
// RFC 8252) or, with --no-browser or where no browser can be opened, with
// the device flow (RFC 8628); it keeps its tokens encrypted (the OS
// keyring, or an AES-256-GCM file store with --store file); 'call' sends
// the access token to an API in the Authorization header only; 'logout'
// revokes the tokens at the server and forgets them.
//
//	gatehouse app create --name "Example CLI" --type public --scope read \
//	    --redirect-uri http://127.0.0.1/callback \
//	    --grant authorization_code,refresh_token,device_code --output json > cli.json
//	go run ./examples/cli --app-file cli.json login [--no-browser]
//	go run ./examples/cli --app-file cli.json call http://127.0.0.1:8090/hello
//	go run ./examples/cli --app-file cli.json logout
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/examples/internal/exampleapp"
)

func main() {
	fs := flag.NewFlagSet("cli", flag.ExitOnError)
	issuer := fs.String("issuer", exampleapp.DefaultIssuer, "the authorization server")
	appFile := fs.String("app-file", "cli.json", "the app's registration ('gatehouse app create --output json')")
	store := fs.String("store", "keyring", "where tokens are kept: keyring (the OS keyring, falling back to the file store) or file")
	dir := fs.String("dir", defaultDir(), "the directory of the file store and its key")
	noBrowser := fs.Bool("no-browser", false, "sign in with a code on another device (RFC 8628) instead of opening a browser")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: cli [flags] login | call URL | logout")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	// Flags may follow the command too: cli login --no-browser.
	args := fs.Args()
	if len(args) > 0 {
		cmd := args[0]
		_ = fs.Parse(args[1:])
		args = append([]string{cmd}, fs.Args()...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, config{issuer: *issuer, appFile: *appFile, store: *store, dir: *dir, noBrowser: *noBrowser}, args); err != nil {
		fmt.Fprintln(os.Stderr, "cli:", err)
		os.Exit(1)
	}
}

type config struct {
	issuer, appFile, store, dir string
	noBrowser                   bool
}

func defaultDir() string {
	d, err := os.UserConfigDir()
	if err != nil {
		d = "."
	}
	return filepath.Join(d, "gatehouse-example-cli")
}

func run(ctx context.Context, c config, args []string) error {
	if len(args) == 0 {
		return errors.New("say login, call URL or logout")
	}
	reg, err := exampleapp.ReadAppFile(c.appFile)
	if err != nil {
		return err
	}
	p, err := client.Discover(ctx, c.issuer, client.AllowInsecureLoopback())
	if err != nil {
		return err
	}
	app := &client.PublicApp{Provider: p, ClientID: reg.ClientID, RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"read"}}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	who := client.TokenKey{Issuer: p.Issuer, ClientID: app.ClientID}
	switch args[0] {
	case "login":
		var opts []client.NativeOption
		if c.noBrowser {
			opts = append(opts, client.NoBrowser())
		}
		s, err := app.Login(ctx, client.PrintDeviceCode(os.Stderr), opts...)
		if err != nil {
			return err
		}
		if err := st.Save(ctx, who, s.Token); err != nil {
			return err
		}
		fmt.Println("signed in")
		return nil
	case "call":
		if len(args) != 2 {
			return errors.New("call needs the URL of the API")
		}
		u, err := url.Parse(args[1])
		if err != nil || u.Host == "" {
			return fmt.Errorf("%q is not an absolute URL", args[1])
		}
		// The token goes only to the API's origin, in the header.
		hc := client.NewClient(app.TokenSource(st, who), u.Scheme+"://"+u.Host)
		req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if errors.Is(err, client.ErrLoginRequired) {
			return errors.New("not signed in: run 'cli login'")
		}
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(os.Stdout, io.LimitReader(resp.Body, 1<<20))
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("the API answered %s", resp.Status)
		}
		return err
	case "logout":
		if err := app.TokenSource(st, who).Logout(ctx); err != nil {
			return err
		}
		fmt.Println("signed out: the tokens were revoked and forgotten")
		return nil
	}
	return fmt.Errorf("unknown command %q: say login, call URL or logout", args[0])
}

// openStore opens the token store: the OS keyring with the encrypted
// file store as its fallback, or the file store alone. The file store's
// key is made on first use (random, mode 0600).
func openStore(c config) (client.TokenStore, error) {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	keyFile := filepath.Join(c.dir, "token.key")
	if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(randomKey())+"\n"), 0o600); err != nil {
			return nil, err
		}
	}
	key, err := client.KeyFromFile(keyFile)
	if err != nil {
		return nil, err
	}
	keys, err := client.NewKeys(key)
	if err != nil {
		return nil, err
	}
	files, err := client.NewFileStore(filepath.Join(c.dir, "tokens"), keys)
	if err != nil {
		return nil, err
	}
	switch c.store {
	case "file":
		return files, nil
	case "keyring":
		return client.NewKeyringStore("gatehouse-example-cli", client.WithFallback(files, slog.New(slog.NewTextHandler(os.Stderr, nil))))
	}
	return nil, fmt.Errorf("--store must be keyring or file, not %q", c.store)
}

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return b
}
