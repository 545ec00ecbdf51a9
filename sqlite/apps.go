package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// appList is a list of an app, stored as ordered rows of a child table.
type appList struct {
	table, column string
	field         func(*gatehouse.App) *[]string
}

// appLists are the lists of an app; a list's index is its kind in appQuery.
var appLists = []appList{
	{"app_redirect_uris", "uri", func(a *gatehouse.App) *[]string { return &a.RedirectURIs }},
	{"app_scopes", "scope", func(a *gatehouse.App) *[]string { return &a.Scopes }},
	{"app_default_scopes", "scope", func(a *gatehouse.App) *[]string { return &a.DefaultScopes }},
	{"app_grants", "grant_type", func(a *gatehouse.App) *[]string { return &a.Grants }},
}

// appQuery selects the apps that where picks, with their lists, in one
// statement: one row per list item (or one row with a NULL kind for an app
// without items), ordered by app, list and position. The child tables are
// searched by app_id through their primary keys.
func appQuery(where string) string {
	var items []string
	for kind, l := range appLists {
		items = append(items, `SELECT app_id, `+strconv.Itoa(kind)+` AS kind, position, `+l.column+
			` AS value FROM `+l.table+` WHERE app_id IN (SELECT id FROM a)`)
	}
	return `WITH a AS (SELECT ` + appRowColumns + ` FROM apps ` + where + `)
SELECT a.id, a.client_id, a.name, a.type, a.resource_server, a.created_at,
	a.owner_id, a.description, a.homepage_url, a.privacy_url, a.terms_url, l.kind, l.value
FROM a LEFT JOIN (` + strings.Join(items, "\nUNION ALL ") + `) l ON l.app_id = a.id
ORDER BY a.id, l.kind, l.position`
}

// appRowColumns are the columns of an app's own row.
const appRowColumns = `id, client_id, name, type, resource_server, created_at, owner_id, description, homepage_url, privacy_url, terms_url`

var (
	getAppSQL          = appQuery(`WHERE client_id = ?`)
	getAppByIDSQL      = appQuery(`WHERE id = ?`)
	listAppsSQL        = appQuery(``)
	listAppsByOwnerSQL = appQuery(`WHERE owner_id = ?`)
)

// scanApps reads the rows of an appQuery.
func scanApps(rows *sql.Rows) ([]gatehouse.App, error) {
	defer rows.Close()
	var apps []gatehouse.App
	for rows.Next() {
		var a gatehouse.App
		var created, owner, kind sql.NullInt64
		var value sql.NullString
		err := rows.Scan(&a.ID, &a.ClientID, &a.Name, &a.Type, &a.ResourceServer, &created,
			&owner, &a.Description, &a.HomepageURL, &a.PrivacyURL, &a.TermsURL, &kind, &value)
		if err != nil {
			return nil, err
		}
		if n := len(apps); n == 0 || apps[n-1].ID != a.ID {
			a.CreatedAt, a.OwnerID = timeOf(created), owner.Int64
			apps = append(apps, a)
		}
		if kind.Valid {
			list := appLists[kind.Int64].field(&apps[len(apps)-1])
			*list = append(*list, value.String)
		}
	}
	return apps, rows.Err()
}

// queryApps runs an appQuery.
func (s *Store) queryApps(ctx context.Context, query string, args ...any) ([]gatehouse.App, error) {
	rows, err := s.read.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanApps(rows)
}

// getApp runs an appQuery for one app.
func (s *Store) getApp(ctx context.Context, query string, arg any) (gatehouse.App, error) {
	apps, err := s.queryApps(ctx, query, arg)
	if err != nil {
		return gatehouse.App{}, err
	}
	if len(apps) == 0 {
		return gatehouse.App{}, gatehouse.ErrNotFound
	}
	return apps[0], nil
}

// GetApp returns the app with the given client_id, or gatehouse.ErrNotFound.
func (s *Store) GetApp(ctx context.Context, clientID string) (gatehouse.App, error) {
	a, err := s.getApp(ctx, getAppSQL, clientID)
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("sqlite: get app: %w", err)
	}
	return a, nil
}

// GetAppByID returns the app with the given ID, or gatehouse.ErrNotFound.
func (s *Store) GetAppByID(ctx context.Context, id int64) (gatehouse.App, error) {
	a, err := s.getApp(ctx, getAppByIDSQL, id)
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("sqlite: get app by id: %w", err)
	}
	return a, nil
}

// ListApps returns every app, ordered by ID.
func (s *Store) ListApps(ctx context.Context) ([]gatehouse.App, error) {
	apps, err := s.queryApps(ctx, listAppsSQL)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list apps: %w", err)
	}
	return apps, nil
}

// ListAppsByOwner returns the apps of the owner ownerID, ordered by ID.
func (s *Store) ListAppsByOwner(ctx context.Context, ownerID int64) ([]gatehouse.App, error) {
	if ownerID == 0 {
		return nil, nil
	}
	apps, err := s.queryApps(ctx, listAppsByOwnerSQL, ownerID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list apps by owner: %w", err)
	}
	return apps, nil
}

// ownerOf is the owner_id of an app: NULL for none.
func ownerOf(a gatehouse.App) sql.NullInt64 {
	return sql.NullInt64{Int64: a.OwnerID, Valid: a.OwnerID != 0}
}

// CreateApp stores an app with its lists in one transaction and returns it
// with its ID set. A taken client_id is gatehouse.ErrAlreadyExists; a scope
// that is not registered fails the foreign key of app_scopes (or
// app_default_scopes) and is gatehouse.ErrNotFound.
func (s *Store) CreateApp(ctx context.Context, a gatehouse.App) (gatehouse.App, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error { return insertApp(ctx, tx, &a) })
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("sqlite: create app: %w", mapErr(err))
	}
	return a, nil
}

// CreateAppWithCredential stores an app with its lists and its first
// credential in one transaction.
func (s *Store) CreateAppWithCredential(ctx context.Context, a gatehouse.App, c gatehouse.Credential) (gatehouse.App, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertApp(ctx, tx, &a); err != nil {
			return err
		}
		c.AppID = a.ID
		_, err := insertCredential(ctx, txQuerier{tx}, c)
		return err
	})
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("sqlite: create app: %w", mapErr(err))
	}
	return a, nil
}

// insertApp stores a with its lists and sets its ID.
func insertApp(ctx context.Context, tx *sql.Tx, a *gatehouse.App) error {
	err := tx.QueryRowContext(ctx,
		`INSERT INTO apps (client_id, name, type, resource_server, created_at, owner_id, description, homepage_url, privacy_url, terms_url)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.ClientID, a.Name, string(a.Type), a.ResourceServer, millis(a.CreatedAt),
		ownerOf(*a), a.Description, a.HomepageURL, a.PrivacyURL, a.TermsURL).Scan(&a.ID)
	if err != nil {
		return err
	}
	for _, l := range appLists {
		if err := l.insert(ctx, tx, a.ID, *l.field(a)); err != nil {
			return err
		}
	}
	return nil
}

// insert stores the items of a list in one statement.
func (l appList) insert(ctx context.Context, tx *sql.Tx, appID int64, items []string) error {
	if len(items) == 0 {
		return nil
	}
	query := `INSERT INTO ` + l.table + ` (app_id, position, ` + l.column + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?), `, len(items)), `, `)
	args := make([]any, 0, 3*len(items))
	for i, item := range items {
		args = append(args, appID, i, item)
	}
	_, err := tx.ExecContext(ctx, query, args...)
	return err
}

// DeleteApp deletes the app; the foreign keys cascade, in the same statement,
// to its lists, credentials, grants, consents, codes and tokens.
func (s *Store) DeleteApp(ctx context.Context, clientID string) error {
	n, err := s.write.exec(ctx, `DELETE FROM apps WHERE client_id = ?`, clientID)
	if err != nil {
		return fmt.Errorf("sqlite: delete app: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: delete app: %w", gatehouse.ErrNotFound)
	}
	return nil
}

// UpdateApp replaces the app's name, resource server flag, owner, profile
// and lists in one transaction and returns the app as stored. An unknown
// client_id, a scope that is not registered (the foreign key of app_scopes
// or app_default_scopes) or an owner that does not exist is
// gatehouse.ErrNotFound. The triggers of the apps
// table and of its lists change the generation.
func (s *Store) UpdateApp(ctx context.Context, a gatehouse.App) (gatehouse.App, error) {
	var out gatehouse.App
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE apps SET name = ?, resource_server = ?, owner_id = ?,
			description = ?, homepage_url = ?, privacy_url = ?, terms_url = ? WHERE client_id = ? RETURNING id`,
			a.Name, a.ResourceServer, ownerOf(a), a.Description, a.HomepageURL, a.PrivacyURL, a.TermsURL, a.ClientID).Scan(&a.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, l := range appLists {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+l.table+` WHERE app_id = ?`, a.ID); err != nil {
				return err
			}
			if err := l.insert(ctx, tx, a.ID, *l.field(&a)); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, getAppByIDSQL, a.ID)
		if err != nil {
			return err
		}
		apps, err := scanApps(rows)
		if err != nil {
			return err
		}
		if len(apps) == 0 {
			return gatehouse.ErrNotFound
		}
		out = apps[0]
		return nil
	})
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("sqlite: update app: %w", mapErr(err))
	}
	return out, nil
}
