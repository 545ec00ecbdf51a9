package postgres_test

import (
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
	"github.com/gatehouse/gatehouse/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatehouse.Store { return pgtest.Open(t) })
}
