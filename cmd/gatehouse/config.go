package main

import (
	"fmt"
	"path/filepath"
)

const (
	keyFileName = "secret.key"
	dbFileName  = "gatehouse.db"
)

// common are the settings every command resolves the same way (DESIGN.md,
// "Command line"), so that a command run beside a running server works on
// the same database with the same key.
type common struct {
	dataDir string
	db      string
	output  string
}

func (c *common) resolve(getenv func(string) string) {
	if c.dataDir == "" {
		c.dataDir = getenv("GATEHOUSE_DATA_DIR")
	}
	if c.dataDir == "" {
		c.dataDir = "./gatehouse-data"
	}
	if c.db == "" {
		c.db = getenv("GATEHOUSE_DB")
	}
	if c.db == "" {
		c.db = "sqlite:" + filepath.Join(c.dataDir, dbFileName)
	}
}

func (c *common) json() bool { return c.output == "json" }

func (c *common) validateOutput() error {
	if c.output != "" && c.output != "text" && c.output != "json" {
		return fmt.Errorf("--output must be text or json, not %q", c.output)
	}
	return nil
}
