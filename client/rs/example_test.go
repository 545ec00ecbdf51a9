package rs_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/rs"
)

// An API protected by Gatehouse. The resource server is an app of its own
// ('gatehouse app create --name API --type confidential --resource-server'),
// and its secret comes from the environment, never from the code.
func Example() {
	ctx := context.Background()
	provider, err := client.Discover(ctx, "https://id.example.com")
	if err != nil {
		log.Fatal(err)
	}
	secret, err := client.SecretFromEnv("API_CLIENT_SECRET")
	if err != nil {
		log.Fatal(err)
	}
	v, err := rs.New(provider, "gth_app_api", secret)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	// Any active token may list items; adding one needs the scope write.
	mux.Handle("GET /items", v.Middleware(http.HandlerFunc(listItems)))
	mux.Handle("POST /items", v.RequireScope("write")(http.HandlerFunc(addItem)))
	log.Fatal(http.ListenAndServe(":8080", mux))
}

func listItems(w http.ResponseWriter, r *http.Request) {
	info, _ := rs.FromContext(r.Context())
	fmt.Fprintf(w, "items for %s\n", info.ClientID)
}

func addItem(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusCreated)
}

// A handler reads who called it from the request's context, and may check
// further scopes itself.
func ExampleFromContext() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		info, ok := rs.FromContext(r.Context())
		if !ok {
			http.Error(w, "not behind rs.Middleware", http.StatusInternalServerError)
			return
		}
		if info.Subject == "" {
			// A client credentials token: the app acts for itself.
			fmt.Fprintf(w, "hello, app %s\n", info.ClientID)
			return
		}
		fmt.Fprintf(w, "hello, %s (through %s); admin: %v\n", info.Username, info.ClientID, info.HasScope("admin"))
	}
	_ = handler
}

// With a cache, a busy API introspects each token at most once a minute:
// a revoked token may then be accepted for up to a minute after its
// revocation. Without WithCache, it is refused from the next request.
func ExampleWithCache() {
	provider, err := client.Discover(context.Background(), "https://id.example.com")
	if err != nil {
		log.Fatal(err)
	}
	secret, err := client.SecretFromFile("/run/secrets/api_client_secret")
	if err != nil {
		log.Fatal(err)
	}
	v, err := rs.New(provider, "gth_app_api", secret, rs.WithCache(time.Minute, 10000))
	if err != nil {
		log.Fatal(err)
	}
	_ = v
}
