package sqlite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// headerSize is the size of an SQLite database header
// (https://sqlite.org/fileformat2.html#the_database_header).
const headerSize = 100

// sqliteMagic opens every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkFile looks at the database file before SQLite opens it, so that
// damage SQLite would only find when a query reaches the damaged page is
// refused up front with [ErrCorrupt]: a file that does not start with an
// SQLite header, and a file shorter than its header says (cut short by a
// failed copy or a full disk). A missing or empty file is a new database.
//
// The length is only compared when the file has no write-ahead log: the
// log may hold pages that a checkpoint interrupted by a crash had not yet
// copied into the file, and SQLite replays them on opening.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if info.Size() == 0 {
		return nil
	}
	var h [headerSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("sqlite: %s is %d bytes, shorter than a database header: %w", path, info.Size(), ErrCorrupt)
	}
	if !bytes.Equal(h[:len(sqliteMagic)], sqliteMagic) {
		return fmt.Errorf("sqlite: %s does not start with an SQLite header: %w", path, ErrCorrupt)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("sqlite: %s has an invalid page size %d: %w", path, pageSize, ErrCorrupt)
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		return nil
	}
	// The page count in the header is valid only when the change counter
	// matches the version-valid-for number.
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	if pages == 0 || !bytes.Equal(h[24:28], h[92:96]) {
		return nil
	}
	if want := pages * pageSize; info.Size() < want {
		return fmt.Errorf("sqlite: %s is %d bytes, its header says %d: the file was cut short: %w",
			path, info.Size(), want, ErrCorrupt)
	}
	return nil
}

// dbFileMode is the mode of a database file [Open] creates.
const dbFileMode fs.FileMode = 0o600

// prepareFiles creates the database file at path, if missing, with mode
// [dbFileMode], and tightens its write-ahead log and shared-memory files,
// if there, to the database file's permissions: anyone allowed to read
// them reads the database's latest changes. SQLite creates them with the
// database file's permissions itself; they are not made here, as an empty
// file made beside a database another process has open can be taken for
// one of its own and fail it with a disk I/O error. Systems without Unix
// permissions are left alone.
func prepareFiles(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if err := createFile(path, dbFileMode); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	perm := fi.Mode().Perm()
	for _, side := range []string{path + "-wal", path + "-shm"} {
		si, err := os.Lstat(side)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		if !si.Mode().IsRegular() {
			return fmt.Errorf("sqlite: open %s: %s is not a regular file: %w", path, side, ErrCorrupt)
		}
		if si.Mode().Perm()&^perm != 0 {
			if err := os.Chmod(side, si.Mode().Perm()&perm); err != nil {
				return fmt.Errorf("sqlite: open %s: tighten the mode of %s to the database's: %w", path, side, err)
			}
		}
	}
	return nil
}

// createFile creates an empty file at path with mode perm exactly, whatever
// the umask, unless something is there already.
func createFile(path string, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	err = f.Chmod(perm)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return nil
}
