package rs

import (
	"net/url"
	"strings"
	"testing"
)

func TestNamesAccessToken(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want bool
	}{
		{"", false},
		{"access_token=x", true},
		{"a=1&access_token=x", true},
		{"ACCESS_TOKEN=x", true},
		{"access%5Ftoken=x", true},
		{"access%5ftoken=x", true},
		{"a=1;access_token=x", true},       // dropped by url.ParseQuery
		{"access_token=x&bad=%zz", true},   // one bad escape: url.ParseQuery gives up
		{"%zz&access%5Ftoken=x", true},     // a bad escape before a good one
		{"access_token", true},             // no value
		{"access_token[]=x", true},         // a framework's array syntax
		{"+access_token=x", true},          // ' access_token'
		{"q=access_token", false},          // a value that mentions it
		{"q=access_token%3Dx", false},      // an escaped '=' stays in the value
		{"token=x&access=y", false},        // the words apart
		{"access_tokens_count=2", true},    // contains the name: refused, to be safe
		{"access-token=x", false},          // another name
		{"q=a%26access_token%3Dx", false},  // an escaped '&' stays in the value
		{"a=1&&access_token=x", true},      // empty pairs
		{"access_token%00=x", true},        // a NUL after the name
		{"x=1&access%5Ftoken%3Dx=1", true}, // the name itself holds an escaped '='
	} {
		if got := namesAccessToken(c.raw); got != c.want {
			t.Errorf("%q: %v, want %v", c.raw, got, c.want)
		}
	}
}

// FuzzNamesAccessToken: whenever Go's own parser finds a parameter named
// access_token, in any case, so does the check.
func FuzzNamesAccessToken(f *testing.F) {
	for _, s := range []string{"access_token=x", "a=1;access_token=x", "access%5Ftoken=x&%zz", "q=access_token", "%41ccess_token=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vals, _ := url.ParseQuery(s)
		for k := range vals {
			if strings.Contains(strings.ToLower(k), "access_token") && !namesAccessToken(s) {
				t.Fatalf("%q: Go reads the parameter %q and the check misses it", s, k)
			}
		}
	})
}
