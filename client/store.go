package client

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/oauth2"
)

// TokenKey names whose tokens a TokenStore holds: one user (Subject; for
// an app acting on its own behalf, empty) of one app (ClientID) at one
// authorization server (Issuer). Encrypting stores bind their ciphertexts
// to the key, so that a token moved to another key does not decrypt.
type TokenKey struct {
	Issuer   string
	ClientID string
	Subject  string
}

// ErrNoToken: the store holds no token for the key.
var ErrNoToken = errors.New("client: no stored token")

// TokenStore keeps the tokens of a TokenKey. Save replaces what is stored
// (the access token, the refresh token, their expiry and type, and the
// id_token and scope extras) in one step: a reader sees the old tokens or
// the new ones, never a mix. Load returns ErrNoToken when there is
// nothing, and the encrypting stores ErrDecrypt when what is stored does
// not authenticate (never a wrong token). Delete of nothing is not an
// error. Implementations are safe for concurrent use.
//
// The stores of this package keep tokens encrypted at rest:
//
//   - NewFileStore, for native and command-line apps: a private directory
//     of AES-256-GCM encrypted files, a Locker across processes;
//   - NewKeyringStore, for native apps on a desktop: the OS keyring, with
//     an opt-in, logged fallback to a FileStore, never to a plain file;
//   - NewSQLStore, for backends: encrypted columns in SQLite or
//     PostgreSQL, a Locker across processes and machines.
//
// The file and SQL stores encrypt under Keys (KeyFromEnv, KeyFromFile,
// NewKeys) and re-encrypt under a new key with Rotate.
type TokenStore interface {
	Load(ctx context.Context, key TokenKey) (*oauth2.Token, error)
	Save(ctx context.Context, key TokenKey, tok *oauth2.Token) error
	Delete(ctx context.Context, key TokenKey) error
}

// Locker is implemented by stores whose tokens several processes share
// (the file and SQL stores): Lock holds an exclusive lock on key across
// processes until unlock is called, so that one refresh among processes
// reaches the server. ctx bounds the wait.
type Locker interface {
	Lock(ctx context.Context, key TokenKey) (unlock func(), err error)
}

// MemoryStore keeps tokens in this process's memory only: for tests and
// for apps that sign in again at every start.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[TokenKey]oauth2.Token
}

// Load returns a copy of the stored token.
func (m *MemoryStore) Load(_ context.Context, key TokenKey) (*oauth2.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[key]
	if !ok {
		return nil, ErrNoToken
	}
	return &t, nil
}

// Save stores a copy of tok.
func (m *MemoryStore) Save(_ context.Context, key TokenKey, tok *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = map[TokenKey]oauth2.Token{}
	}
	m.tokens[key] = *tok
	return nil
}

// Delete forgets the key's tokens.
func (m *MemoryStore) Delete(_ context.Context, key TokenKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, key)
	return nil
}
