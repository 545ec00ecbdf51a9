package client

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"golang.org/x/oauth2"
)

// SealToken encrypts tok for key exactly as the file and SQL stores do
// (see Keys and the format in seal.go: the access part and the refresh
// token each sealed with AES-256-GCM under the current key, bound to key,
// their kind and a random record id), and returns both halves in one
// value, for stores outside this package (a Redis store) that keep one
// byte string per key:
//
//	version (1 byte, 1) | record id (16) | length of the access half (4, big endian) | access half | refresh half
//
// The value holds no token in plain text.
func (ks *Keys) SealToken(key TokenKey, tok *oauth2.Token) ([]byte, error) {
	s, err := ks.seal(key, tok)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+recordIDLen+4+len(s.access)+len(s.refresh))
	out = append(out, sealVersion)
	out = append(out, s.record...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(s.access)))
	out = append(out, s.access...)
	return append(out, s.refresh...), nil
}

// OpenToken decrypts what SealToken made for key. Anything else — a value
// altered, truncated, sealed for another TokenKey, or under a key that is
// not in ks — is ErrDecrypt.
func (ks *Keys) OpenToken(key TokenKey, b []byte) (*oauth2.Token, error) {
	const head = 1 + recordIDLen + 4
	if len(b) < head || b[0] != sealVersion {
		return nil, fmt.Errorf("%w: not a sealed token", ErrDecrypt)
	}
	n := binary.BigEndian.Uint32(b[1+recordIDLen : head])
	if uint64(n) > uint64(len(b)-head) {
		return nil, fmt.Errorf("%w: not a sealed token", ErrDecrypt)
	}
	s := sealed{
		record:  bytes.Clone(b[1 : 1+recordIDLen]),
		access:  b[head : head+int(n)],
		refresh: b[head+int(n):],
	}
	return ks.open(key, s)
}

// dataDomain separates SealData's ciphertexts from the tokens' (their
// associated data begin with adDomain), so that neither opens as the other.
const dataDomain = "gatehouse client data v1"

// SealData encrypts data (AES-256-GCM under the current key, the header
// and random nonce of the token format) bound to purpose, a name of what
// the data is for ("bff login transaction"): OpenData with another purpose
// does not decrypt it. For small records an app keeps outside its store,
// such as a login transaction in a cookie.
func (ks *Keys) SealData(purpose string, data []byte) ([]byte, error) {
	return encrypt(ks.current, data, dataAD(purpose))
}

// OpenData decrypts what SealData made for purpose; anything else is
// ErrDecrypt.
func (ks *Keys) OpenData(purpose string, ct []byte) ([]byte, error) {
	return ks.decrypt(ct, dataAD(purpose))
}

func dataAD(purpose string) []byte {
	var b bytes.Buffer
	for _, f := range []string{dataDomain, purpose} {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(f)))
		b.WriteString(f)
	}
	return b.Bytes()
}
