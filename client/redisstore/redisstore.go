package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

// DefaultTTL is how long Redis keeps a key's tokens after the last Save
// unless WithTTL says otherwise.
const DefaultTTL = 30 * 24 * time.Hour

// The lock's lease, renewed every lockRenew while it is held.
const (
	lockLease     = 10 * time.Second
	lockRenew     = lockLease / 3
	unlockTimeout = 5 * time.Second
	minLockPoll   = 5 * time.Millisecond
	maxLockPoll   = 200 * time.Millisecond
)

// Store keeps tokens in Redis, encrypted under Keys. Made by New; safe for
// concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	keys   *client.Keys
	prefix string
	ttl    time.Duration
}

var (
	_ client.TokenStore = (*Store)(nil)
	_ client.Locker     = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithPrefix puts the store's Redis keys under prefix (default
// "gatehouse:"), to share a Redis with other data or other stores.
func WithPrefix(prefix string) Option { return func(s *Store) { s.prefix = prefix } }

// WithTTL sets how long a key's tokens live in Redis after each Save.
func WithTTL(d time.Duration) Option { return func(s *Store) { s.ttl = d } }

// New returns the store on rdb (a *redis.Client, *redis.ClusterClient or
// other UniversalClient) whose values are sealed under keys.
func New(rdb redis.UniversalClient, keys *client.Keys, opts ...Option) (*Store, error) {
	s := &Store{rdb: rdb, keys: keys, prefix: "gatehouse:", ttl: DefaultTTL}
	for _, o := range opts {
		o(s)
	}
	var errs []error
	if rdb == nil {
		errs = append(errs, errors.New("redisstore: no Redis client"))
	}
	if keys == nil {
		errs = append(errs, errors.New("redisstore: no Keys"))
	}
	if s.ttl < time.Second {
		errs = append(errs, fmt.Errorf("redisstore: the TTL %v is shorter than a second", s.ttl))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// name is the hex SHA-256 of key, each field length-prefixed.
func name(key client.TokenKey) string {
	var b bytes.Buffer
	for _, f := range []string{"gatehouse redisstore v1", key.Issuer, key.ClientID, key.Subject} {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(f)))
		b.WriteString(f)
	}
	h := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(h[:])
}

func (s *Store) tokenKey(key client.TokenKey) string { return s.prefix + "tok:" + name(key) }
func (s *Store) lockKey(key client.TokenKey) string  { return s.prefix + "lock:" + name(key) }

// Load returns key's tokens, client.ErrNoToken when there are none (or
// they expired), or client.ErrDecrypt when the value does not decrypt.
func (s *Store) Load(ctx context.Context, key client.TokenKey) (*oauth2.Token, error) {
	b, err := s.rdb.Get(ctx, s.tokenKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, client.ErrNoToken
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: load the token: %w", err)
	}
	return s.keys.OpenToken(key, b)
}

// Save replaces key's tokens in one SET, with the store's TTL.
func (s *Store) Save(ctx context.Context, key client.TokenKey, tok *oauth2.Token) error {
	b, err := s.keys.SealToken(key, tok)
	if err != nil {
		return fmt.Errorf("redisstore: seal the token: %w", err)
	}
	if err := s.rdb.Set(ctx, s.tokenKey(key), b, s.ttl).Err(); err != nil {
		return fmt.Errorf("redisstore: save the token: %w", err)
	}
	return nil
}

// Delete removes key's tokens; deleting what is not there is not an error.
func (s *Store) Delete(ctx context.Context, key client.TokenKey) error {
	if err := s.rdb.Del(ctx, s.tokenKey(key)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete the token: %w", err)
	}
	return nil
}

// The holder's scripts: each acts only while the lock is still the owner's.
var (
	unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
	renewScript  = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)
)

// Lock takes an exclusive lock on key across every process sharing the
// Redis, until unlock is called (see the package documentation). It waits
// until the lock is free or ctx is done, and returns ctx.Err() then.
func (s *Store) Lock(ctx context.Context, key client.TokenKey) (unlock func(), err error) {
	lk := s.lockKey(key)
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	owner := hex.EncodeToString(b)
	wait := minLockPoll
	for {
		ok, err := s.rdb.SetNX(ctx, lk, owner, lockLease).Result()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("redisstore: lock the token: %w", err)
		}
		if ok {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxLockPoll)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go s.renew(lk, owner, stop, done)
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
			defer cancel()
			_ = unlockScript.Run(ctx, s.rdb, []string{lk}, owner).Err()
		})
	}, nil
}

// renew extends the lease of owner's lock every lockRenew until stop.
func (s *Store) renew(lk, owner string, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(lockRenew)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), lockRenew)
		_ = renewScript.Run(ctx, s.rdb, []string{lk}, owner, lockLease.Milliseconds()).Err()
		cancel()
	}
}

// Prefix returns the prefix of the store's Redis keys.
func (s *Store) Prefix() string { return s.prefix }
