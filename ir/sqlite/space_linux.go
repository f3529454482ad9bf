package sqlite

import (
	"path/filepath"
	"syscall"
)

// freeSpace returns the bytes an unprivileged writer may still use on the
// file system holding the database file at path, and whether it could
// tell.
func freeSpace(path string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
