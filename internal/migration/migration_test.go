package migration

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("ALTER")},
		"m/0001_init.sql": {Data: []byte("CREATE")},
		"m/README":        {Data: []byte("not a migration")},
	}
	got, err := Load(fsys, "m")
	require.NoError(t, err)
	assert.Equal(t, []Migration{{1, "0001_init.sql", "CREATE"}, {2, "0002_more.sql", "ALTER"}}, got)
}

func TestLoadRefusesMisnumbered(t *testing.T) {
	t.Parallel()
	for name, fsys := range map[string]fstest.MapFS{
		"a gap":         {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"no number":     {"m/init.sql": {}},
		"short number":  {"m/1_init.sql": {}},
		"not from 0001": {"m/0002_b.sql": {}},
	} {
		_, err := Load(fsys, "m")
		assert.Error(t, err, name)
	}
}
