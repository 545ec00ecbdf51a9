package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// Issue 5: the janitor runs on one instance at a time. Two stores (two
// instances) on one database: while one runs an Exclusive, the other's is
// skipped; once it returns, the lock is free again, also after an error.
func TestExclusiveRunsOnOneInstanceAtATime(t *testing.T) {
	dsn := pgtest.DSN(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	name := "janitor-" + t.Name()
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		ran, err := a.Exclusive(t.Context(), name, func(context.Context) error {
			close(inside)
			<-release
			return nil
		})
		if err == nil && !ran {
			err = errors.New("a did not run")
		}
		done <- err
	}()
	<-inside
	ran, err := b.Exclusive(t.Context(), name, func(context.Context) error { return nil })
	if err != nil || ran {
		t.Fatalf("b ran %v (err %v) while a held the lock", ran, err)
	}
	other, err := b.Exclusive(t.Context(), name+"-other", func(context.Context) error { return nil })
	if err != nil || !other {
		t.Fatalf("another name: ran %v, err %v", other, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	ran, err = b.Exclusive(t.Context(), name, func(context.Context) error { return boom })
	if !ran || !errors.Is(err, boom) {
		t.Fatalf("after a released: ran %v, err %v", ran, err)
	}
	ran, err = a.Exclusive(t.Context(), name, func(context.Context) error { return nil })
	if !ran || err != nil {
		t.Fatalf("after b's error: ran %v, err %v; the lock was not released", ran, err)
	}
}

// Two deployments in two schemas of one database sweep independently
// (review L3).
func TestExclusiveIsPerSchema(t *testing.T) {
	open := func() *postgres.Store {
		s, err := postgres.Open(t.Context(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	ran, err := a.Exclusive(t.Context(), "janitor", func(ctx context.Context) error {
		other, err := b.Exclusive(ctx, "janitor", func(context.Context) error { return nil })
		if err != nil || !other {
			return errors.New("the other schema's janitor was skipped")
		}
		return nil
	})
	if err != nil || !ran {
		t.Fatalf("ran %v, err %v", ran, err)
	}
}
