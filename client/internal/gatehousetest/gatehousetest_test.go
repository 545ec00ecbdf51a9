package gatehousetest

import (
	"testing"
)

// The harness itself: the server starts, answers its metadata, and the
// commands register an app beside it.
func TestStart(t *testing.T) {
	s := Start(t)
	a := s.CreateApp(t, "--name", "Svc", "--type", "confidential", "--grant", "client_credentials")
	if a.ClientID == "" || a.ClientSecret == "" {
		t.Fatalf("app create: %+v", a)
	}
	resp, err := s.NewBrowser().c.Get(s.URL + "/.well-known/oauth-authorization-server")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metadata: %v %v", resp, err)
	}
	resp.Body.Close()
}
