// Package migration reads the schema migrations the durable stores embed.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one step of a schema.
type Migration struct {
	// Version numbers the step from 1.
	Version int
	// Name is the file's name, such as "0001_init.sql".
	Name string
	// SQL is the file's content.
	SQL string
}

// Load returns the migrations in dir of fsys, in order. Their files are
// named NNNN_name.sql and numbered from 0001 without gaps; anything else
// is an error, so a misnamed file is caught by the first test that opens
// a store.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	slices.Sort(names)
	out := make([]Migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 || len(num) != 4 {
			return nil, fmt.Errorf("migration %s is not numbered %04d", base, i+1)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		out = append(out, Migration{Version: v, Name: base, SQL: string(body)})
	}
	return out, nil
}
