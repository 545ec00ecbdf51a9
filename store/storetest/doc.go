// Package storetest is the conformance suite of gatehouse.Store. Every backend
// runs it, unchanged and with no opt-outs, from a five-line test:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) gatehouse.Store { return newMigratedStore(t) })
//	}
//
// The suite checks each method's documented error contract (with errors.Is),
// the round-trip of every field, the cascades and atomicity the contract
// promises, and the concurrency guarantees: one winner among many redeemers
// of a code, one among many creators of a digest, one among many exchanges
// of a refresh token, and one live family of successors however many
// retries race.
//
// It imports the root package and the standard library (testing included)
// only; never a backend.
package storetest
