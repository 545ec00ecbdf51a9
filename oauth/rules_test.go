package oauth

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
		bad  bool
	}{
		{"omitted", "", nil, false},
		{"one", "read", []string{"read"}, false},
		{"several keep order", "write read", []string{"write", "read"}, false},
		{"duplicates dropped", "read read", []string{"read"}, false},
		{"colon and dot", "reports:read api.v2", []string{"reports:read", "api.v2"}, false},
		{"double space", "read  write", nil, true},
		{"leading space", " read", nil, true},
		{"tab", "read\twrite", nil, true},
		{"quote", `re"ad`, nil, true},
		{"backslash", `re\ad`, nil, true},
		{"non-ASCII", "lecture·", nil, true},
		{"too long", strings.Repeat("a", 129), nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseScope(c.in)
			if c.bad {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalidScope {
					t.Fatalf("ParseScope(%q) = %v, want invalid_scope", c.in, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("ParseScope(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
}

func TestGrantScopes(t *testing.T) {
	allowed := []string{"read", "write", "reports:read"}
	defaults := []string{"read"}
	cases := []struct {
		name      string
		requested []string
		want      []string
		bad       bool
	}{
		{"omitted gets the defaults", nil, []string{"read"}, false},
		{"exactly the requested", []string{"write"}, []string{"write"}, false},
		{"all allowed", []string{"read", "write", "reports:read"}, []string{"read", "write", "reports:read"}, false},
		{"one not allowed refuses all", []string{"read", "admin"}, nil, true},
		{"no prefix matching", []string{"reports"}, nil, true},
		{"no wildcard", []string{"*"}, nil, true},
		{"no suffix matching", []string{"reports:read:all"}, nil, true},
		{"case matters", []string{"READ"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := grantScopes(c.requested, allowed, defaults)
			if c.bad != (err != nil) || !slices.Equal(got, c.want) {
				t.Fatalf("grantScopes(%v) = %v, %v", c.requested, got, err)
			}
		})
	}
}

// BCP-2.1-a, BCP-2.6-d, O21-2.3-a, O21-2.3.1-a: what registration accepts.
func TestValidateRedirectURI(t *testing.T) {
	cases := []struct {
		uri string
		ok  bool
	}{
		{"https://client.example/cb", true},
		{"https://client.example/cb?tenant=a", true},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:8400/cb", true},
		{"http://[::1]/cb", true},
		{"com.example.app:/cb", true},
		{"http://client.example/cb", false},
		{"http://localhost/cb", false},
		{"http://127.0.0.1.evil.example/cb", false},
		{"https://*.client.example/cb", false},
		{"https://client.example/cb#frag", false},
		{"https://client.example/cb#", false},
		{"/cb", false},
		{"client.example/cb", false},
		{"myapp:/cb", false},
		{"https:///cb", false},
		{"https://user@client.example/cb", false},
		{"https://client.example\\@evil.example/cb", false},
		{"javascript:alert(1)", false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(c.uri, func(t *testing.T) {
			if err := ValidateRedirectURI(c.uri); (err == nil) != c.ok {
				t.Fatalf("ValidateRedirectURI(%q) = %v, want ok=%v", c.uri, err, c.ok)
			}
		})
	}
}

func TestValidateIssuer(t *testing.T) {
	cases := []struct {
		issuer string
		dev    bool
		ok     bool
	}{
		{"https://id.example.com", false, true},
		{"https://id.example.com/tenant", false, false},
		{"https://id.example.com/", false, false},
		{"http://id.example.com", false, false},
		{"http://127.0.0.1:8080", false, false},
		{"http://127.0.0.1:8080", true, true},
		{"http://localhost:8080", true, true},
		{"http://id.example.com", true, false},
		{"https://id.example.com?x=1", false, false},
		{"https://id.example.com#f", false, false},
		{"id.example.com", false, false},
		{"", false, false},
	}
	for _, c := range cases {
		if err := ValidateIssuer(c.issuer, c.dev); (err == nil) != c.ok {
			t.Errorf("ValidateIssuer(%q, dev=%v) = %v, want ok=%v", c.issuer, c.dev, err, c.ok)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("unexpected hash format")
	}
	if ok, err := VerifyPassword(h, "correct horse battery"); !ok || err != nil {
		t.Fatalf("the right password does not verify: %v", err)
	}
	if ok, _ := VerifyPassword(h, "correct horse batterz"); ok {
		t.Fatal("a wrong password verifies")
	}
	if _, err := HashPassword("short"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if _, err := VerifyPassword("$bcrypt$x", "whatever1"); err == nil {
		t.Fatal("a foreign hash format was accepted")
	}
}

func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{"https://a.example/cb", "http://127.0.0.1:1/cb", "com.example.app:/cb", "http://[::1]/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateRedirectURI(s) != nil {
			return
		}
		if strings.ContainsAny(s, "#*") || !strings.Contains(s, ":") {
			t.Fatalf("accepted %q", s)
		}
		if strings.HasPrefix(s, "http:") && !strings.HasPrefix(s, "http://127.") && !strings.HasPrefix(s, "http://[") {
			t.Fatalf("accepted plain http %q", s)
		}
	})
}
