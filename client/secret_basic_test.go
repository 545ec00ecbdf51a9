package client

import (
	"encoding/base64"
	"net/http"
	"testing"
)

// RFC 6749 §2.3.1: client_secret_basic form-urlencodes the id and the
// secret before it joins them, so ':' and '%' survive the trip.
func TestSecretBasicAuth(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://as.test/introspect", nil)
	v := "s:e%c+r t"
	Secret{value: &v}.BasicAuth(req, "rs:1")
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("rs%3A1:s%3Ae%25c%2Br+t"))
	if got := req.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization = %q, want %q", got, want)
	}
}
