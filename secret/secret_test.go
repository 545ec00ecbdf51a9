package secret

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestNewHasPrefixLengthAndValidChecksum(t *testing.T) {
	for _, k := range kinds {
		s := New(k)
		if !strings.HasPrefix(s, string(k)) || len(s) != Len {
			t.Fatalf("New(%q) has form prefix=%q len=%d", k, s[:prefixLen], len(s))
		}
		got, err := Parse(s)
		if err != nil || got != k {
			t.Fatalf("Parse(New(%q)) = %q, %v", k, got, err)
		}
	}
}

// O21-7.7-a: generated credentials carry at least 128 (here 256) random bits
// and never collide.
func TestNewIsUniqueAndUsesTheWholeAlphabet(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	used := make(map[byte]bool)
	for range n {
		s := New(AccessToken)
		if seen[s] {
			t.Fatal("two generated tokens collide")
		}
		seen[s] = true
		for i := prefixLen; i < prefixLen+bodyLen; i++ {
			used[s[i]] = true
		}
	}
	if len(used) != len(alphabet) {
		t.Fatalf("bodies use %d of %d base62 characters", len(used), len(alphabet))
	}
}

func TestParseRejects(t *testing.T) {
	good := New(RefreshToken)
	flip := func(i int) string {
		b := []byte(good)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"short", good[:Len-1], ErrMalformed},
		{"long", good + "0", ErrMalformed},
		{"unknown prefix", "gth_xx_" + good[prefixLen:], ErrMalformed},
		{"foreign prefix", "ghp_abc" + good[prefixLen:], ErrMalformed},
		{"non-base62 body", good[:10] + "-" + good[11:], ErrMalformed},
		{"non-ASCII body", good[:10] + "\xff" + good[11:], ErrMalformed},
		{"body typo", flip(prefixLen + 5), ErrChecksum},
		{"checksum typo", flip(Len - 1), ErrChecksum},
		{"other kind, same body", string(AccessToken) + good[prefixLen:], ErrChecksum},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Parse(c.in); !errors.Is(err, c.want) {
				t.Fatalf("Parse = %v, want %v", err, c.want)
			}
		})
	}
}

func TestDigestIsKeyedAndDeterministic(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, 32)
	k2 := bytes.Repeat([]byte{2}, 32)
	d1, err := NewDigester(k1)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := NewDigester(k2)
	s := New(ClientSecret)
	if !bytes.Equal(d1.Digest(s), d1.Digest(s)) {
		t.Fatal("digest is not deterministic")
	}
	if bytes.Equal(d1.Digest(s), d2.Digest(s)) {
		t.Fatal("digest does not depend on the key")
	}
	if bytes.Contains(d1.Digest(s), []byte(s[prefixLen:prefixLen+8])) {
		t.Fatal("digest contains the secret")
	}
	if _, err := NewDigester(k1[:31]); err == nil {
		t.Fatal("a 31-byte server key was accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(New(AccessToken))
	f.Add(New(ClientSecret))
	f.Add("gth_at_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			if k != "" {
				t.Fatal("kind returned with an error")
			}
			return
		}
		if !strings.HasPrefix(s, string(k)) || len(s) != Len {
			t.Fatalf("accepted %q as %q", s, k)
		}
	})
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New(AccessToken)
	}
}

func BenchmarkParseAndDigest(b *testing.B) {
	d, _ := NewDigester(bytes.Repeat([]byte{7}, 32))
	s := New(AccessToken)
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
		d.Digest(s)
	}
}
