package client_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse/client"
	"golang.org/x/oauth2"
	_ "modernc.org/sqlite"
)

// A command-line app keeps its tokens in an encrypted file store under the
// user's configuration directory. The key comes from the environment (made
// once with: openssl rand -hex 32).
func ExampleNewFileStore() {
	os.Setenv("MYCLI_TOKEN_KEY", "5c0c5e2c0b6c9f5e8b1d0c5f2a7e9d3c4b6a8f0e1d2c3b4a5968778695a4b3c2") // in real life, not in code
	key, err := client.KeyFromEnv("MYCLI_TOKEN_KEY")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := client.NewKeys(key)
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "example") // os.UserConfigDir() in real life
	defer os.RemoveAll(dir)
	store, err := client.NewFileStore(filepath.Join(dir, "mycli", "tokens"), keys)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	who := client.TokenKey{Issuer: "https://id.example", ClientID: "mycli", Subject: "alice"}
	if err := store.Save(ctx, who, &oauth2.Token{AccessToken: "at", RefreshToken: "rt"}); err != nil {
		log.Fatal(err)
	}
	tok, err := store.Load(ctx, who)
	fmt.Println(tok.RefreshToken, err, keys)
	// Output: rt <nil> client.Keys{current: b933c1b3bc8b5837, all: [b933c1b3bc8b5837]}
}

// To rotate the key, make the new key current, keep the old one until
// Rotate has re-encrypted every record, then drop it.
func ExampleFileStore_Rotate() {
	newKey, err := client.KeyFromEnv("MYCLI_TOKEN_KEY")
	if err != nil {
		log.Fatal(err)
	}
	oldKey, err := client.KeyFromEnv("MYCLI_TOKEN_KEY_OLD")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := client.NewKeys(newKey, oldKey)
	if err != nil {
		log.Fatal(err)
	}
	store, err := client.NewFileStore("/home/alice/.config/mycli/tokens", keys)
	if err != nil {
		log.Fatal(err)
	}
	n, err := store.Rotate(context.Background())
	if err != nil {
		log.Fatal(err) // keep MYCLI_TOKEN_KEY_OLD
	}
	log.Printf("re-encrypted %d records: MYCLI_TOKEN_KEY_OLD may go", n)
}

// A desktop app keeps its tokens in the OS keyring, and in an encrypted
// file only where there is no keyring (a headless session), saying so.
func ExampleNewKeyringStore() {
	key, err := client.KeyFromFile("/home/alice/.config/myapp/token.key")
	if err != nil {
		log.Fatal(err)
	}
	keys, _ := client.NewKeys(key)
	fallback, err := client.NewFileStore("/home/alice/.config/myapp/tokens", keys)
	if err != nil {
		log.Fatal(err)
	}
	store, err := client.NewKeyringStore("com.example.myapp", client.WithFallback(fallback, slog.Default()))
	if err != nil {
		log.Fatal(err)
	}
	_ = store // give it to the token source
}

// A backend keeps its users' tokens in encrypted columns of its database.
func ExampleNewSQLStore() {
	db, err := sql.Open("sqlite", "file:app.db?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		log.Fatal(err)
	}
	key, err := client.KeyFromEnv("APP_TOKEN_KEY")
	if err != nil {
		log.Fatal(err)
	}
	keys, _ := client.NewKeys(key)
	store, err := client.NewSQLStore(db, client.SQLite, keys)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		log.Fatal(err)
	}
}
