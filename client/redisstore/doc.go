// Package redisstore is a client.TokenStore and client.Locker on Redis
// (github.com/redis/go-redis/v9), for backends with several replicas, the
// BFF's session store among them (package bff). It is a package of its own
// so that apps not on Redis do not import go-redis.
//
// Each TokenKey's tokens are one Redis string, client.Keys.SealToken's
// value: the access and refresh tokens sealed with AES-256-GCM exactly as
// the file and SQL stores seal them, bound to the TokenKey. A dump of Redis
// without the Keys yields no usable token, and a value copied to another
// key does not decrypt (client.ErrDecrypt). Redis key names are
// <prefix>tok:<hex SHA-256 of the TokenKey>, so the TokenKey itself is not
// in the key space either.
//
// Every Save sets the value's time to live (WithTTL, default
// DefaultTTL): a session that is never used again, and never logged out,
// is forgotten by Redis when its refresh token could no longer be used
// anyway. Set it no longer than the server's refresh-token lifetime, or
// the BFF's session lifetime.
//
// Lock is SET NX PX with a random owner under <prefix>lock:<hex>: a lease
// (10 s) renewed by the holder while it holds the lock, released by a
// compare-and-delete script, so that a replica that dies holding it frees
// it after at most the lease and an unlock never frees another holder's
// lock.
//
// The package imports the standard library, go-redis and client only.
package redisstore
