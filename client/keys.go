package client

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
)

// Key is a 256-bit key that encrypts stored tokens (AES-256-GCM). It comes
// from the environment or a private file only, and never shows itself:
// String, GoString, every fmt verb, JSON and slog print "[redacted key
// <id>]", where the id is a fingerprint of the key, safe to log, that each
// ciphertext carries so that the key that made it is found again.
//
// Make the key once per app and installation with 32 random bytes, for
// example openssl rand -hex 32 (or openssl rand -base64 32), and keep it
// where the app's other secrets are; a lost key makes the stored tokens
// unreadable, and the user signs in again.
//
// The cipher is kept behind a pointer, so that fmt's reflection over a
// struct that holds a Key in an unexported field prints an address, never
// the key schedule.
type Key struct {
	id   [keyIDLen]byte
	aead *keyAEAD
}

// keyAEAD holds a Key's cipher, behind the Key's pointer.
type keyAEAD struct{ cipher.AEAD }

const keyIDLen = 8

// KeyFromEnv reads a key from the environment variable name: 32 bytes
// written in hex (64 digits) or in base64 (standard or URL alphabet, with
// or without padding). An unset, empty or malformed value is an error that
// names the variable, never the value.
func KeyFromEnv(name string) (Key, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return Key{}, fmt.Errorf("client: the environment variable %s holding the token encryption key is unset or empty", name)
	}
	k, err := parseKey([]byte(v))
	if err != nil {
		return Key{}, fmt.Errorf("client: the environment variable %s: %w", name, err)
	}
	return k, nil
}

// KeyFromFile reads a key from a file that only its owner, this user, may
// read (a file readable by its group or others is refused: chmod 600 it;
// so are a symbolic link and a file another user owns): 32 raw bytes,
// or 32 bytes in hex or base64 as KeyFromEnv reads them, surrounding white
// space dropped.
func KeyFromFile(path string) (Key, error) {
	b, err := readPrivateFile(path, "token encryption key", 4096)
	if err != nil {
		return Key{}, err
	}
	if len(b) == 32 {
		return newKey(b)
	}
	k, err := parseKey(bytes.TrimSpace(b))
	if err != nil {
		return Key{}, fmt.Errorf("client: the key file %s: %w", path, err)
	}
	return k, nil
}

// readPrivateFile reads at most limit bytes of a regular file that its
// group and others cannot read, that this user owns and that is not a
// symbolic link (on Unix); what names the file in errors.
func readPrivateFile(path, what string, limit int64) ([]byte, error) {
	f, err := openOwned(path)
	if err != nil {
		return nil, fmt.Errorf("client: open the %s file: %w", what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("client: the %s file: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("client: the %s file %s is not a regular file", what, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("client: the %s file %s is readable by others (mode %#o): chmod 600 it", what, path, perm)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

var errKeyFormat = errors.New("not 32 bytes in hex or base64 (make one with: openssl rand -hex 32)")

// parseKey decodes 32 bytes written in hex or base64.
func parseKey(text []byte) (Key, error) {
	s := string(text)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return newKey(b)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil && len(b) == 32 {
			return newKey(b)
		}
	}
	return Key{}, errKeyFormat
}

// newKey makes a Key of 32 bytes; all zeros (an unfilled buffer) is refused.
func newKey(b []byte) (Key, error) {
	if len(b) != 32 {
		return Key{}, errKeyFormat
	}
	if bytes.Equal(b, make([]byte, 32)) {
		return Key{}, errors.New("the key is all zeros")
	}
	block, err := aes.NewCipher(b)
	if err != nil {
		return Key{}, err
	}
	aead, err := cipher.NewGCM(block) // 96-bit nonces, 128-bit tags
	if err != nil {
		return Key{}, err
	}
	h := sha256.New()
	h.Write([]byte("gatehouse client token key id\x00"))
	h.Write(b)
	var k Key
	copy(k.id[:], h.Sum(nil))
	k.aead = &keyAEAD{aead}
	return k, nil
}

// ID returns the key's fingerprint in hex: it identifies the key in
// ciphertexts and logs, and reveals nothing of it.
func (k Key) ID() string { return hex.EncodeToString(k.id[:]) }

// IsZero reports whether k is the zero Key, which encrypts nothing.
func (k Key) IsZero() bool { return k.aead == nil }

func (k Key) redacted() string { return "[redacted key " + k.ID() + "]" }

// String returns "[redacted key <id>]".
func (k Key) String() string { return k.redacted() }

// GoString returns "[redacted key <id>]", for %#v.
func (k Key) GoString() string { return k.redacted() }

// Format prints "[redacted key <id>]" for every verb and flag.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.redacted()) }

// MarshalJSON writes "[redacted key <id>]".
func (k Key) MarshalJSON() ([]byte, error) { return []byte(`"` + k.redacted() + `"`), nil }

// MarshalText writes "[redacted key <id>]".
func (k Key) MarshalText() ([]byte, error) { return []byte(k.redacted()), nil }

// LogValue makes slog print "[redacted key <id>]".
func (k Key) LogValue() slog.Value { return slog.StringValue(k.redacted()) }

// Keys is the set of keys of an encrypting store: the current key encrypts
// every token saved, and every key of the set decrypts. To rotate, make a
// new key current and keep the old one as older until the store's Rotate
// has re-encrypted every record; then drop it. A Keys is immutable and
// prints only its keys' ids.
type Keys struct {
	current Key
	byID    map[[keyIDLen]byte]Key
}

// NewKeys returns the set whose current key is current and which also
// decrypts with older. A zero key, or the same key twice, is an error.
func NewKeys(current Key, older ...Key) (*Keys, error) {
	ks := &Keys{current: current, byID: map[[keyIDLen]byte]Key{}}
	for _, k := range append([]Key{current}, older...) {
		if k.IsZero() {
			return nil, errors.New("client: NewKeys: a zero Key (use KeyFromEnv or KeyFromFile)")
		}
		if _, dup := ks.byID[k.id]; dup {
			return nil, fmt.Errorf("client: NewKeys: key %s is given twice", k.ID())
		}
		ks.byID[k.id] = k
	}
	return ks, nil
}

// CurrentID returns the id of the key that encrypts.
func (ks *Keys) CurrentID() string { return ks.current.ID() }

// IDs returns the ids of every key of the set, the current one first.
func (ks *Keys) IDs() []string {
	ids := []string{ks.current.ID()}
	for id, k := range ks.byID {
		if id != ks.current.id {
			ids = append(ids, k.ID())
		}
	}
	slices.Sort(ids[1:])
	return ids
}

func (ks *Keys) redacted() string {
	if ks == nil {
		return "client.Keys(nil)"
	}
	return "client.Keys{current: " + ks.CurrentID() + ", all: [" + strings.Join(ks.IDs(), " ") + "]}"
}

// String names the keys by id only.
func (ks *Keys) String() string { return ks.redacted() }

// GoString names the keys by id only, for %#v.
func (ks *Keys) GoString() string { return ks.redacted() }

// Format names the keys by id only, for every verb.
func (ks *Keys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, ks.redacted()) }

// LogValue makes slog name the keys by id only.
func (ks *Keys) LogValue() slog.Value { return slog.StringValue(ks.redacted()) }
