package secret

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"math/big"
	"strings"
)

// Kind is the type of a secret string, written as its prefix.
type Kind string

// The kinds of secret Gatehouse issues.
const (
	ClientSecret Kind = "gth_cs_"
	AccessToken  Kind = "gth_at_"
	RefreshToken Kind = "gth_rt_"
	Code         Kind = "gth_ac_"
	Session      Kind = "gth_se_"
	// Device is a device cookie: a browser its user signed in from.
	Device Kind = "gth_dc_"
	// DeviceCode is the device code of the device authorization grant
	// (RFC 8628), which the app polls with.
	DeviceCode Kind = "gth_dg_"
)

var kinds = []Kind{ClientSecret, AccessToken, RefreshToken, Code, Session, Device, DeviceCode}

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	randomBytes = 32 // 256 bits
	bodyLen     = 43 // ceil(256 / log2(62))
	checksumLen = 6  // ceil(32 / log2(62))
	prefixLen   = 7
	// Len is the length of every secret string.
	Len = prefixLen + bodyLen + checksumLen
)

// Errors from Parse. They never contain the parsed string.
var (
	ErrMalformed = errors.New("malformed secret")
	ErrChecksum  = errors.New("secret checksum mismatch")
)

// New returns a fresh secret string of the given kind.
func New(k Kind) string {
	var b [randomBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	body := encode(new(big.Int).SetBytes(b[:]), bodyLen)
	return string(k) + body + checksum(string(k)+body)
}

// Parse checks the form and the checksum of s and returns its kind. It does
// not tell whether the secret was ever issued; only a digest lookup does.
func Parse(s string) (Kind, error) {
	if len(s) != Len {
		return "", ErrMalformed
	}
	k := Kind(s[:prefixLen])
	if !known(k) {
		return "", ErrMalformed
	}
	for i := prefixLen; i < Len; i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return "", ErrMalformed
		}
	}
	if checksum(s[:prefixLen+bodyLen]) != s[prefixLen+bodyLen:] {
		return "", ErrChecksum
	}
	return k, nil
}

// Hint returns the last characters of a secret, safe to show to tell secrets
// apart (they are part of the checksum, not of the random body).
func Hint(s string) string {
	if len(s) < 4 {
		return ""
	}
	return s[len(s)-4:]
}

func known(k Kind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func checksum(s string) string {
	return encode(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s)))), checksumLen)
}

// encode writes n in base62, left-padded with zeros to width characters.
func encode(n *big.Int, width int) string {
	out := make([]byte, width)
	base := big.NewInt(int64(len(alphabet)))
	mod := new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = alphabet[mod.Int64()]
	}
	return string(out)
}

// Digester computes the keyed digests under which secrets are stored.
type Digester struct {
	key []byte
}

// MinKeyLen is the shortest server key accepted, in bytes.
const MinKeyLen = 32

// NewDigester derives the digest key from the server key with HKDF-SHA-256,
// so that the server key itself is never used for two purposes.
func NewDigester(serverKey []byte) (*Digester, error) {
	if len(serverKey) < MinKeyLen {
		return nil, fmt.Errorf("server key must be at least %d bytes, got %d", MinKeyLen, len(serverKey))
	}
	key, err := hkdf.Key(sha256.New, serverKey, nil, "gatehouse secret digest v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive digest key: %w", err)
	}
	return &Digester{key: key}, nil
}

// Digest returns HMAC-SHA-256(key, s).
func (d *Digester) Digest(s string) []byte {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// NewID returns prefix followed by 128 random bits in base62: an identifier
// that is unguessable but not secret (no checksum, stored as is).
func NewID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + encode(new(big.Int).SetBytes(b[:]), 22)
}
