package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/jackc/pgx/v5"
)

// appList is a list of an app, stored as ordered rows of a child table.
type appList struct {
	table, column string
	field         func(*gatehouse.App) *[]string
}

// appLists are the lists of an app, in the order of appColumns.
var appLists = []appList{
	{"app_redirect_uris", "uri", func(a *gatehouse.App) *[]string { return &a.RedirectURIs }},
	{"app_scopes", "scope", func(a *gatehouse.App) *[]string { return &a.Scopes }},
	{"app_default_scopes", "scope", func(a *gatehouse.App) *[]string { return &a.DefaultScopes }},
	{"app_grants", "grant_type", func(a *gatehouse.App) *[]string { return &a.Grants }},
}

// appColumns selects an app with each of its lists as an array, in one row
// and one snapshot; the child tables are searched through their primary keys.
var appColumns = func() string {
	cols := []string{`id, client_id, name, type, resource_server, created_at, owner_id, description, homepage_url, privacy_url, terms_url`}
	for _, l := range appLists {
		cols = append(cols, `ARRAY(SELECT `+l.column+` FROM `+l.table+
			` WHERE app_id = apps.id ORDER BY position)`)
	}
	return strings.Join(cols, ",\n\t")
}()

var (
	getAppSQL          = `SELECT ` + appColumns + ` FROM apps WHERE client_id = $1`
	getAppByIDSQL      = `SELECT ` + appColumns + ` FROM apps WHERE id = $1`
	listAppsSQL        = `SELECT ` + appColumns + ` FROM apps ORDER BY id`
	listAppsByOwnerSQL = `SELECT ` + appColumns + ` FROM apps WHERE owner_id = $1 ORDER BY id`
)

func scanApp(r pgx.Row) (gatehouse.App, error) {
	var a gatehouse.App
	var created, owner *int64
	var resourceServer int64
	dest := []any{&a.ID, &a.ClientID, &a.Name, &a.Type, &resourceServer, &created,
		&owner, &a.Description, &a.HomepageURL, &a.PrivacyURL, &a.TermsURL}
	for _, l := range appLists {
		dest = append(dest, l.field(&a))
	}
	err := r.Scan(dest...)
	a.ResourceServer, a.CreatedAt = resourceServer != 0, timeOf(created)
	if owner != nil {
		a.OwnerID = *owner
	}
	return a, err
}

// GetApp returns the app with the given client_id, or gatehouse.ErrNotFound.
func (s *Store) GetApp(ctx context.Context, clientID string) (gatehouse.App, error) {
	a, err := readOne(ctx, s, scanApp, getAppSQL, clientID)
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("postgres: get app: %w", err)
	}
	return a, nil
}

// GetAppByID returns the app with the given ID, or gatehouse.ErrNotFound.
func (s *Store) GetAppByID(ctx context.Context, id int64) (gatehouse.App, error) {
	a, err := readOne(ctx, s, scanApp, getAppByIDSQL, id)
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("postgres: get app by id: %w", err)
	}
	return a, nil
}

// ListApps returns every app, ordered by ID.
func (s *Store) ListApps(ctx context.Context) ([]gatehouse.App, error) {
	apps, err := readAll(ctx, s, scanApp, listAppsSQL)
	if err != nil {
		return nil, fmt.Errorf("postgres: list apps: %w", err)
	}
	return apps, nil
}

// ListAppsByOwner returns the apps of the owner ownerID, ordered by ID.
func (s *Store) ListAppsByOwner(ctx context.Context, ownerID int64) ([]gatehouse.App, error) {
	if ownerID == 0 {
		return nil, nil
	}
	apps, err := readAll(ctx, s, scanApp, listAppsByOwnerSQL, ownerID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list apps by owner: %w", err)
	}
	return apps, nil
}

// createAppSQL stores an app and its lists in one statement, so in one
// transaction: each list is a data-modifying CTE that numbers the items of
// an array parameter. The foreign keys are checked at the end of the
// statement, when the app row exists; any failure stores nothing.
var createAppSQL = func() string {
	var b strings.Builder
	b.WriteString(`WITH app AS (
	INSERT INTO apps (client_id, name, type, resource_server, created_at, owner_id, description, homepage_url, privacy_url, terms_url)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
)`)
	for i, l := range appLists {
		fmt.Fprintf(&b, `, list%d AS (
	INSERT INTO %s (app_id, position, %s)
	SELECT app.id, item.ord - 1, item.value FROM app, unnest($%s::text[]) WITH ORDINALITY AS item (value, ord)
)`, i, l.table, l.column, strconv.Itoa(11+i))
	}
	b.WriteString("\nSELECT id FROM app")
	return b.String()
}()

// CreateApp stores an app with its lists, atomically, and returns it with its
// ID set. A taken client_id is gatehouse.ErrAlreadyExists; a scope that is
// not registered fails the foreign key of app_scopes (or app_default_scopes)
// and is gatehouse.ErrNotFound.
func (s *Store) CreateApp(ctx context.Context, a gatehouse.App) (gatehouse.App, error) {
	id, err := s.insertID(ctx, createAppSQL, createAppArgs(a)...)
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("postgres: create app: %w", err)
	}
	a.ID = id
	return a, nil
}

func createAppArgs(a gatehouse.App) []any {
	args := []any{a.ClientID, a.Name, string(a.Type), flag(a.ResourceServer), millis(a.CreatedAt),
		nullID(a.OwnerID), a.Description, a.HomepageURL, a.PrivacyURL, a.TermsURL}
	for _, l := range appLists {
		args = append(args, *l.field(&a))
	}
	return args
}

// CreateAppWithCredential stores an app with its lists and its first
// credential in one transaction.
func (s *Store) CreateAppWithCredential(ctx context.Context, a gatehouse.App, c gatehouse.Credential) (gatehouse.App, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, createAppSQL, createAppArgs(a)...).Scan(&a.ID); err != nil {
			return err
		}
		c.AppID = a.ID
		_, err := tx.Exec(ctx, createCredentialSQL, credentialArgs(c)...)
		return err
	})
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("postgres: create app: %w", mapErr(err))
	}
	return a, nil
}

// DeleteApp deletes the app; the foreign keys cascade, in the same statement
// and so in the same transaction, to its lists, credentials, grants,
// consents, codes and tokens.
func (s *Store) DeleteApp(ctx context.Context, clientID string) error {
	n, err := s.exec(ctx, `DELETE FROM apps WHERE client_id = $1`, clientID)
	if err == nil && n == 0 {
		err = gatehouse.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: delete app: %w", err)
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE apps SET name = $1, resource_server = $2, owner_id = $3,
			description = $4, homepage_url = $5, privacy_url = $6, terms_url = $7 WHERE client_id = $8 RETURNING id`,
			a.Name, flag(a.ResourceServer), nullID(a.OwnerID), a.Description, a.HomepageURL, a.PrivacyURL, a.TermsURL, a.ClientID).Scan(&id)
		if err != nil {
			return err // no row: ErrNotFound by mapErr
		}
		for _, l := range appLists {
			if _, err := tx.Exec(ctx, `DELETE FROM `+l.table+` WHERE app_id = $1`, id); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO `+l.table+` (app_id, position, `+l.column+`)
	SELECT $1, item.ord - 1, item.value FROM unnest($2::text[]) WITH ORDINALITY AS item (value, ord)`, id, *l.field(&a))
			if err != nil {
				return err
			}
		}
		out, err = one(ctx, tx, scanApp, getAppByIDSQL, id)
		return err
	})
	if err != nil {
		return gatehouse.App{}, fmt.Errorf("postgres: update app: %w", mapErr(err))
	}
	return out, nil
}
