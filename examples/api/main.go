// Command api is an example API (a resource server) on Gatehouse's
// resource-server middleware: GET /hello needs a token with the read
// scope, checked by introspection at the authorization server.
//
//	gatehouse app create --name "Example API" --type confidential --resource-server \
//	    --grant client_credentials --output json > api.json && chmod 600 api.json
//	go run ./examples/api --app-file api.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/rs"
	"github.com/gatehouse/gatehouse/examples/internal/exampleapp"
)

func main() {
	issuer := flag.String("issuer", exampleapp.DefaultIssuer, "the authorization server")
	appFile := flag.String("app-file", "api.json", "the API's registration ('gatehouse app create --resource-server --output json')")
	addr := flag.String("addr", "127.0.0.1:8090", "the address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *issuer, *appFile, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, issuer, appFile, addr string) error {
	app, err := exampleapp.ReadAppFile(appFile)
	if err != nil {
		return err
	}
	p, err := client.Discover(ctx, issuer, client.AllowInsecureLoopback())
	if err != nil {
		return err
	}
	v, err := rs.New(p, app.ClientID, app.Secret)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /hello", v.RequireScope("read")(http.HandlerFunc(hello)))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	slog.Info("example API listening", "addr", "http://"+addr, "issuer", issuer)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// hello answers who the token is for: it never echoes the token.
func hello(w http.ResponseWriter, r *http.Request) {
	info, _ := rs.FromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"hello": info.Username, "client_id": info.ClientID, "scopes": info.Scopes})
}
