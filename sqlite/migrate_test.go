package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// shipped pins the SHA-256 (of the text with LF line ends) of every migration
// a release has shipped: a database migrated by that release never runs it
// again, so a change would never reach it. Change the schema in a new
// migration, and pin it here once it ships.
var shipped = map[string]string{
	"0001_init.sql": "ec4f82e63566f826ee0666ec171a01b40e548fe9a6ca98471a3a52560a1580a1",
}

func TestShippedMigrationsUnchanged(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range ms {
		want, ok := shipped[m.name]
		if !ok {
			continue
		}
		seen[m.name] = true
		sum := sha256.Sum256([]byte(strings.ReplaceAll(m.sql, "\r\n", "\n")))
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("shipped migration %s was edited (sha256 %s); add a new migration instead", m.name, got)
		}
	}
	for name := range shipped {
		if !seen[name] {
			t.Errorf("shipped migration %s is missing", name)
		}
	}
}

// TestMigrateFromVersion1 upgrades a database of the first release: its
// tokens read back with no parent and no use.
func TestMigrateFromVersion1(t *testing.T) {
	s, err := Open(t.Context(), Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.db.ExecContext(t.Context(), createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	if err := s.inTx(t.Context(), func(tx *sql.Tx) error { return apply(t.Context(), tx, ms[0]) }); err != nil {
		t.Fatal(err)
	}
	// The app as the first release wrote it (the store writes columns of
	// later versions).
	var app gatehouse.App
	if err := s.write.db.QueryRowContext(t.Context(), `INSERT INTO apps (client_id, name, type, resource_server)
		VALUES ('web', '', 'public', 0) RETURNING id`).Scan(&app.ID); err != nil {
		t.Fatal(err)
	}
	want := gatehouse.Token{Digest: []byte("digest"), Kind: gatehouse.RefreshToken, AppID: app.ID,
		IssuedAt: time.UnixMilli(1000).UTC(), ExpiresAt: time.UnixMilli(2000).UTC()}
	if _, err := s.write.db.ExecContext(t.Context(), `INSERT INTO tokens
		(digest, kind, app_id, scopes, issued_at, expires_at) VALUES (?, ?, ?, '', 1000, 2000)`,
		want.Digest, string(want.Kind), want.AppID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.db.ExecContext(t.Context(), `INSERT INTO codes
		(digest, app_id, redirect_uri, scopes, challenge, created_at, expires_at) VALUES (?, ?, 'https://a.example/cb', 'read', 'c', 1000, 61000)`,
		[]byte("code"), want.AppID); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Version 10 gave apps an owner and a profile: none.
	if a, err := s.GetAppByID(t.Context(), app.ID); err != nil || a.OwnerID != 0 || a.Description != "" || a.HomepageURL != "" {
		t.Fatalf("app after the upgrade: %+v, %v", a, err)
	}
	// Version 6 rebuilt tokens and codes: the rows came along.
	code, err := s.ConsumeCode(t.Context(), []byte("code"), time.UnixMilli(2000))
	if err != nil || code.RedirectURI != "https://a.example/cb" || code.Challenge != "c" {
		t.Fatalf("code after the upgrade: %+v, %v", code, err)
	}
	got, err := s.GetToken(t.Context(), want.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if got.Parent != nil || !got.UsedAt.IsZero() || !got.IssuedAt.Equal(want.IssuedAt) || got.AppID != want.AppID {
		t.Fatalf("token after the upgrade = %+v, want %+v", got, want)
	}
	if _, err := s.RotateRefreshToken(t.Context(), want.Digest, time.UnixMilli(1500), false, nil); err != nil {
		t.Fatalf("exchange of an upgraded token: %v", err)
	}
}
