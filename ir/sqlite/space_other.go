//go:build !linux

package sqlite

// freeSpace cannot tell the free space of a file system on this system:
// a full disk is recognised only when SQLite or the system says so.
func freeSpace(string) (uint64, bool) { return 0, false }
