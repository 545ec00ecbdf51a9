package oauth

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Detail is the JSON detail of an audit event: facts for people and
// tools (a reason, counts, a credential id), never a secret.
type Detail map[string]any

// String returns d as a JSON object.
func (d Detail) String() string {
	b, err := json.Marshal(map[string]any(d))
	if err != nil || d == nil {
		return "{}"
	}
	return string(b)
}

type actorKey struct{}

// actingUserKey carries the ID of the user on whose behalf an operation
// of developer.go runs, so that the events of the operations it calls
// (UpdateApp, CreateCredential, …) name the user. Only this package sets
// it, from the user a caller passes explicitly: it decides nothing, it
// only labels events.
type actingUserKey struct{}

// actingAs returns a context whose audit events name the user u as their
// actor (gatehouse.ActorUser) and as their UserID.
func actingAs(ctx context.Context, u gatehouse.User) context.Context {
	return context.WithValue(WithActor(ctx, gatehouse.ActorUser), actingUserKey{}, u.ID)
}

// WithActor returns a context whose audit events name actor (one of the
// gatehouse.Actor constants) unless an event names its own.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// RecordEvent records an audit event at now, for a transport that saw it
// (a throttled address); a failure to record is logged, not fatal.
func (s *Server) RecordEvent(ctx context.Context, e gatehouse.Event) {
	e.At = s.clock()
	s.event(ctx, e)
}

// RecordClientEvent is RecordEvent for an event about the client that
// presented clientID: the event names its app when one has that
// client_id, so that 'gatehouse audit log --app' shows it.
func (s *Server) RecordClientEvent(ctx context.Context, clientID string, e gatehouse.Event) {
	if clientID != "" && plausibleClientID(clientID) {
		if a, err := s.app(ctx, clientID); err == nil {
			e.AppID = a.ID
		}
	}
	s.RecordEvent(ctx, e)
}

// event records an audit event, filling its actor and address from ctx
// when it names none, and writes it as one log line; a failure to record
// is logged, not fatal.
func (s *Server) event(ctx context.Context, e gatehouse.Event) {
	if e.At.IsZero() {
		e.At = s.clock()
	}
	if e.Actor == "" {
		e.Actor, _ = ctx.Value(actorKey{}).(string)
	}
	if e.Actor == "" {
		e.Actor = s.actor
	}
	if e.Address == "" {
		// The request's source address, as the transport remembered it
		// for the limits (ratelimit.Proxies.Remember).
		if c, ok := ratelimit.CallerFrom(ctx); ok {
			e.Address = c.Addr
		}
	}
	if e.UserID == 0 {
		e.UserID, _ = ctx.Value(actingUserKey{}).(int64)
	}
	switch {
	case e.Detail == "":
		e.Detail = "{}"
	case !json.Valid([]byte(e.Detail)):
		e.Detail = Detail{"message": e.Detail}.String()
	}
	s.log.WarnContext(ctx, "audit event", "kind", e.Kind, "actor", e.Actor, "app_id", e.AppID, "user_id", e.UserID,
		"grant_id", e.GrantID, "address", e.Address, "detail", json.RawMessage(e.Detail))
	if _, err := s.store.RecordEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "record audit event", "kind", e.Kind, "err", err)
	}
}

// LoginThrottled records that a sign-in limit (limit names it: address,
// account, …) refused an attempt for key, for wait more, once per lockout
// and process. The event names the account when username is one (never
// the text typed, which may be a mistyped password).
func (s *Server) LoginThrottled(ctx context.Context, limit, key, username string, wait time.Duration) {
	now := s.clock()
	id := limit + "\x00" + string(s.digest.Digest("lockout\x00"+key))
	if !s.lockouts.due(id, now, wait) {
		return
	}
	e := gatehouse.Event{Kind: gatehouse.EventLoginThrottled, At: now, Actor: gatehouse.ActorServer,
		Detail: Detail{"limit": limit, "retry_after_seconds": int64(wait/time.Second) + 1}.String()}
	if username != "" && len(username) <= 64 {
		if u, err := s.store.GetUserByUsername(ctx, username); err == nil {
			e.UserID = u.ID
		}
	}
	s.event(ctx, e)
}
