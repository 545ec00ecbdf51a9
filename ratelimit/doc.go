// Package ratelimit throttles repeated failures (client authentication,
// login) per key with token buckets of bounded memory. It imports only the
// standard library.
package ratelimit
