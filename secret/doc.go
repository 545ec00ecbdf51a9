// Package secret generates, parses and digests the bearer strings Gatehouse
// hands out: client secrets, access and refresh tokens, authorization codes
// and session ids.
//
// Every such string is 256 bits from crypto/rand, written in base62 behind a
// type prefix and followed by a CRC-32 checksum, the way GitHub's token format
// lets leak scanners find tokens and reject typos without a database lookup:
//
//	gth_at_<43 base62 characters><6 base62 characters of CRC-32>
//
// The database only ever sees an HMAC-SHA-256 digest of the whole string
// under a key derived from the server key, so a copy of the database yields no
// usable token or secret (DESIGN.md invariant 6).
//
// This package imports only the standard library.
package secret
