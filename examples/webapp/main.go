// Command webapp is an example single-page app on Gatehouse's
// backend-for-frontend (client/bff): the page signs in through /bff/login,
// and its script calls the example API through /bff/api/api/hello with an
// X-CSRF header. The tokens stay in this process (or in Redis with
// --redis); the browser holds only an HttpOnly session cookie.
//
//	gatehouse app create --name "Example Web" --type confidential --scope read \
//	    --redirect-uri http://127.0.0.1:8081/bff/callback --output json > web.json && chmod 600 web.json
//	go run ./examples/webapp --app-file web.json      # then open http://127.0.0.1:8081
package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/bff"
	"github.com/gatehouse/gatehouse/client/redisstore"
	"github.com/gatehouse/gatehouse/examples/internal/exampleapp"
	"github.com/redis/go-redis/v9"
)

//go:embed static
var static embed.FS

func main() {
	issuer := flag.String("issuer", exampleapp.DefaultIssuer, "the authorization server")
	appFile := flag.String("app-file", "web.json", "the app's registration ('gatehouse app create --type confidential --output json')")
	addr := flag.String("addr", "127.0.0.1:8081", "the address to listen on (the app's redirect URI is http://ADDR/bff/callback)")
	api := flag.String("api", "http://127.0.0.1:8090", "the example API, the one upstream of the proxy")
	keyFile := flag.String("key-file", "web-token.key", "the key that encrypts sessions' tokens (made when missing; the same on every replica)")
	redisAddr := flag.String("redis", "", "keep sessions in Redis at this address (several replicas); empty: in memory")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *issuer, *appFile, *addr, *api, *keyFile, *redisAddr); err != nil {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, issuer, appFile, addr, api, keyFile, redisAddr string) error {
	reg, err := exampleapp.ReadAppFile(appFile)
	if err != nil {
		return err
	}
	p, err := client.Discover(ctx, issuer, client.AllowInsecureLoopback())
	if err != nil {
		return err
	}
	app := &client.ConfidentialApp{Provider: p, ClientID: reg.ClientID, Secret: reg.Secret,
		RedirectURL: "http://" + addr + "/bff/callback", Scopes: []string{"read"}}
	if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
			return err
		}
	}
	key, err := client.KeyFromFile(keyFile)
	if err != nil {
		return err
	}
	keys, err := client.NewKeys(key)
	if err != nil {
		return err
	}
	var store client.TokenStore = &client.MemoryStore{}
	if redisAddr != "" {
		if store, err = redisstore.New(redis.NewClient(&redis.Options{Addr: redisAddr}), keys); err != nil {
			return err
		}
	}
	b, err := bff.New(bff.Config{App: app, Store: store, Keys: keys, Upstreams: map[string]string{"api": api}})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	b.Mount(mux)
	files, _ := fs.Sub(static, "static")
	mux.Handle("GET /", pageHeaders(http.FileServerFS(files)))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	slog.Info("example web app listening", "url", "http://"+addr, "issuer", issuer, "api", api)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// pageHeaders: a CSP with no inline script (the page's script is a file),
// no framing, no referrer.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
