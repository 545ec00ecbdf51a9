package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

const tokenColumns = `digest, kind, app_id, user_id, grant_id, scopes, issued_at, expires_at, revoked_at,
	parent, used_at`

// insertTokenSQL stores a token without a grant (client credentials).
const insertTokenSQL = `INSERT INTO tokens (` + tokenColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// insertGrantTokenSQL stores a token of a grant, provided the grant exists
// and is not revoked; otherwise it inserts no row.
//
// Why FOR SHARE, in READ COMMITTED: RevokeGrant first updates the grant row
// and then, in a second statement, revokes the grant's tokens. Without a
// lock, an insert could read the grant as live in a snapshot taken before
// the revocation committed, and commit after the revocation's second
// statement took its snapshot: a live token in a dead grant. (The foreign
// key's own FOR KEY SHARE lock does not help: it does not conflict with an
// update of a non-key column.) FOR SHARE does conflict with that update, so
// either the insert locks the grant first, and RevokeGrant waits for the
// insert to commit and its token-revoking statement sees the token; or the
// revocation locks it first, and the insert waits for its commit, re-reads
// the row as the revocation left it (READ COMMITTED's re-check of a locked
// row), fails revoked_at IS NULL and inserts nothing. SERIALIZABLE would
// also prevent the anomaly, but by aborting and retrying transactions on
// the hottest path; the lock costs one shared row lock per token.
const insertGrantTokenSQL = `INSERT INTO tokens (` + tokenColumns + `)
	SELECT $1::bytea, $2::text, $3::bigint, $4::bigint, g.id, $6::text, $7::bigint, $8::bigint, $9::bigint,
		$10::bytea, $11::bigint
	FROM grants g WHERE g.id = $5::bigint AND g.revoked_at IS NULL
	FOR SHARE OF g`

// errDeadGrant is the error of an insert into a missing or revoked grant.
var errDeadGrant = fmt.Errorf("grant missing or revoked: %w", gatehouse.ErrNotFound)

func scanToken(r pgx.Row) (gatehouse.Token, error) {
	var t gatehouse.Token
	var userID, grantID, issued, expires, revoked, used *int64
	var scopes string
	err := r.Scan(&t.Digest, &t.Kind, &t.AppID, &userID, &grantID, &scopes, &issued, &expires, &revoked,
		&t.Parent, &used)
	t.UserID, t.GrantID, t.Scopes = idOf(userID), idOf(grantID), splitScopes(scopes)
	t.IssuedAt, t.ExpiresAt, t.RevokedAt, t.UsedAt = timeOf(issued), timeOf(expires), timeOf(revoked), timeOf(used)
	return t, err
}

// insertToken stores t with q. A taken digest is gatehouse.ErrAlreadyExists;
// a missing app or user fails a foreign key and is gatehouse.ErrNotFound, and
// so is a missing or revoked grant.
func insertToken(ctx context.Context, q querier, t gatehouse.Token) error {
	args := []any{t.Digest, string(t.Kind), t.AppID, nullID(t.UserID), nullID(t.GrantID), joinScopes(t.Scopes),
		millis(t.IssuedAt), millis(t.ExpiresAt), millis(t.RevokedAt), nullBytes(t.Parent), millis(t.UsedAt)}
	if t.GrantID == 0 {
		_, err := q.Exec(ctx, insertTokenSQL, args...)
		return mapErr(err)
	}
	tag, err := q.Exec(ctx, insertGrantTokenSQL, args...)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return errDeadGrant
	}
	return nil
}

// CreateToken stores a token; see insertToken for its errors and
// insertGrantTokenSQL for why no token lands in a revoked grant.
func (s *Store) CreateToken(ctx context.Context, t gatehouse.Token) error {
	if err := s.retry(ctx, func() error { return insertToken(ctx, s.pool, t) }); err != nil {
		return fmt.Errorf("postgres: create token: %w", err)
	}
	return nil
}

// insertTokenAtSQL and insertGrantTokenAtSQL are insertTokenSQL and
// insertGrantTokenSQL, provided the generation is $12.
//
// Why FOR SHARE on the generation row: a change of an app or a credential
// (RevokeCredential, DeleteCredential, ...) updates that row, through its
// triggers, in its first statement, and holds the row's lock until it
// commits. A plain read in the insert's snapshot would see the old value
// while the change is uncommitted, and an insert that commits after the
// change's later statements took their snapshots (revoking the app's
// tokens) would leave a live token minted with a deleted credential (the
// issue 11 security review measured hundreds, under a race of client
// credentials requests against 'credential delete'). With FOR SHARE, the
// insert waits for the change to commit and then reads the row as the
// change left it (READ COMMITTED's re-check of a locked row): the
// generation differs and nothing is inserted. Or the insert locks first,
// the change waits for it to commit, and the change's revoking statement
// sees the token. Every lock is shared among inserts; only a change of an
// app or a credential, which is rare, makes them wait.
const insertTokenAtSQL = `INSERT INTO tokens (` + tokenColumns + `)
	SELECT $1::bytea, $2::text, $3::bigint, $4::bigint, $5::bigint, $6::text, $7::bigint, $8::bigint, $9::bigint,
		$10::bytea, $11::bigint
	WHERE (SELECT value FROM generation FOR SHARE) = $12::bigint`

const insertGrantTokenAtSQL = `INSERT INTO tokens (` + tokenColumns + `)
	SELECT $1::bytea, $2::text, $3::bigint, $4::bigint, g.id, $6::text, $7::bigint, $8::bigint, $9::bigint,
		$10::bytea, $11::bigint
	FROM grants g WHERE g.id = $5::bigint AND g.revoked_at IS NULL
		AND (SELECT value FROM generation FOR SHARE) = $12::bigint
	FOR SHARE OF g`

// CreateTokenAt stores a token if the generation is still gen; see
// gatehouse.Store.
func (s *Store) CreateTokenAt(ctx context.Context, t gatehouse.Token, gen int64) error {
	args := []any{t.Digest, string(t.Kind), t.AppID, nullID(t.UserID), nullID(t.GrantID), joinScopes(t.Scopes),
		millis(t.IssuedAt), millis(t.ExpiresAt), millis(t.RevokedAt), nullBytes(t.Parent), millis(t.UsedAt), gen}
	query := insertTokenAtSQL
	if t.GrantID != 0 {
		query = insertGrantTokenAtSQL
	}
	var n int64
	err := s.retry(ctx, func() error {
		tag, err := s.pool.Exec(ctx, query, args...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create token: %w", mapErr(err))
	}
	if n == 1 {
		return nil
	}
	// Nothing was inserted: a dead grant, or a newer generation. The
	// generation only grows, so if it is gen now, it was gen then.
	now, err := s.Generation(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("postgres: create token: %w", err)
	case now != gen:
		return fmt.Errorf("postgres: create token: %w", gatehouse.ErrStale)
	}
	return fmt.Errorf("postgres: create token: %w", errDeadGrant)
}

// GetTokenAt returns the token with that digest and the generation, read
// by one statement (one snapshot); see gatehouse.Store.
func (s *Store) GetTokenAt(ctx context.Context, digest []byte) (gatehouse.Token, int64, error) {
	var gen int64
	var found bool
	var t gatehouse.Token
	var kind, scopes *string
	var appID, userID, grantID, issued, expires, revoked, used *int64
	err := s.read(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT g.value, t.digest IS NOT NULL, t.digest, t.kind, t.app_id, t.user_id,
			t.grant_id, t.scopes, t.issued_at, t.expires_at, t.revoked_at, t.parent, t.used_at
			FROM generation g LEFT JOIN tokens t ON t.digest = $1`, digest).Scan(&gen, &found, &t.Digest, &kind,
			&appID, &userID, &grantID, &scopes, &issued, &expires, &revoked, &t.Parent, &used)
	})
	if err != nil {
		return gatehouse.Token{}, 0, fmt.Errorf("postgres: get token: %w", mapErr(err))
	}
	if !found {
		return gatehouse.Token{}, gen, fmt.Errorf("postgres: get token: %w", gatehouse.ErrNotFound)
	}
	if kind != nil {
		t.Kind = gatehouse.TokenKind(*kind)
	}
	if scopes != nil {
		t.Scopes = splitScopes(*scopes)
	}
	t.AppID, t.UserID, t.GrantID = idOf(appID), idOf(userID), idOf(grantID)
	t.IssuedAt, t.ExpiresAt, t.RevokedAt, t.UsedAt = timeOf(issued), timeOf(expires), timeOf(revoked), timeOf(used)
	return t, gen, nil
}

// GetToken returns the token with that digest, revoked and expired ones
// included, or gatehouse.ErrNotFound.
func (s *Store) GetToken(ctx context.Context, digest []byte) (gatehouse.Token, error) {
	t, err := readOne(ctx, s, scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE digest = $1`, digest)
	if err != nil {
		return gatehouse.Token{}, fmt.Errorf("postgres: get token: %w", err)
	}
	return t, nil
}

// RevokeToken marks the token revoked at at unless it was revoked before, or
// returns gatehouse.ErrNotFound. Concurrent revocations queue on the row
// lock and each re-reads the row, so the first revocation time stays. The
// statement is idempotent (a second run matches the same row and changes
// nothing), so it runs again after a lost connection.
func (s *Store) RevokeToken(ctx context.Context, digest []byte, at time.Time) error {
	err := requireTime(at)
	if err == nil {
		var n int64
		n, err = s.execIdempotent(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE digest = $2`,
			millis(at), digest)
		if err == nil && n == 0 {
			err = gatehouse.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: revoke token: %w", err)
	}
	return nil
}

// RevokeAppTokens marks every unrevoked token of the app revoked at at and
// returns how many it revoked.
func (s *Store) RevokeAppTokens(ctx context.Context, appID int64, at time.Time) (int64, error) {
	if err := requireTime(at); err != nil {
		return 0, fmt.Errorf("postgres: revoke app tokens: %w", err)
	}
	n, err := s.exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE app_id = $2 AND revoked_at IS NULL`,
		millis(at), appID)
	if err != nil {
		return 0, fmt.Errorf("postgres: revoke app tokens: %w", err)
	}
	return n, nil
}
