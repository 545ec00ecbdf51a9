// Package exampleapp holds what the examples share: the app file that
// 'gatehouse app create --output json' writes, read only when private.
package exampleapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/gatehouse/gatehouse/client"
)

// DefaultIssuer is the dev server's address (gatehouse serve --dev).
const DefaultIssuer = "http://127.0.0.1:8080"

// App is a registered app as 'gatehouse app create --output json' prints
// it. The secret is a client.Secret: it never prints itself.
type App struct {
	ClientID string
	Secret   client.Secret
}

// ReadAppFile reads an app file. A file others can read is refused, as
// the toolkit refuses a readable secret file: it holds a client secret.
func ReadAppFile(path string) (App, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return App{}, fmt.Errorf("the app file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return App{}, fmt.Errorf("the app file %s is readable by others: chmod 600 %s", path, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return App{}, fmt.Errorf("the app file: %w", err)
	}
	var raw struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || raw.ClientID == "" {
		return App{}, fmt.Errorf("the app file %s is not the output of 'gatehouse app create --output json'", path)
	}
	a := App{ClientID: raw.ClientID}
	if raw.ClientSecret != "" {
		// The secret goes through a private file of its own, the way the
		// toolkit takes secrets, and the file is removed at once.
		f, err := os.CreateTemp("", "example-secret-*")
		if err != nil {
			return App{}, fmt.Errorf("the app file: %w", err)
		}
		defer os.Remove(f.Name())
		_, werr := f.WriteString(raw.ClientSecret)
		if cerr := f.Close(); werr != nil || cerr != nil {
			return App{}, fmt.Errorf("the app file: %w", errors.Join(werr, cerr))
		}
		if a.Secret, err = client.SecretFromFile(f.Name()); err != nil {
			return App{}, fmt.Errorf("the app file: %w", err)
		}
	}
	return a, nil
}
