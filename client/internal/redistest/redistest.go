// Package redistest connects tests to the Redis at 127.0.0.1:6379 under a
// random key prefix of their own, which it deletes when the test ends.
// Under CI=true a missing Redis fails the test; elsewhere it skips it,
// saying so.
//
// Only tests import it.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr is where the tests expect Redis.
const Addr = "127.0.0.1:6379"

// Client returns a new client of the Redis at Addr and a fresh key prefix
// ("gatehousetest:<random>:"). Each call makes another client (another
// connection pool), as another replica would have.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: Addr, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		msg := "no Redis at " + Addr + " (" + err.Error() + "); start redis-server to run this test"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "gatehousetest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}
