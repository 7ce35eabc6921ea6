package storage

import (
	"errors"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configure Open. The zero value plus Dir is a working
// configuration; EnsureDefaults fills the rest.
type Options struct {
	// Dir is the Pebble data directory; created if missing. Required.
	Dir string
	// Logger receives Pebble's and storage's log lines. Default: a logger
	// that discards everything.
	Logger *slog.Logger
	// CacheSize is the block cache size in bytes; memtables have a budget
	// of their own on top. Default 64 MiB.
	CacheSize int64
	// MemTableSize is the size of one memtable in bytes. Default 32 MiB.
	MemTableSize uint64
	// MaxOpenFiles bounds Pebble's open file handles. Default 1000.
	MaxOpenFiles int
	// FS overrides the filesystem (tests use vfs.NewMem()). Default: the
	// operating system's.
	FS vfs.FS
	// AsynchronousCommit makes a commit return once its batch is in the
	// write-ahead log, before the log is fsynced (PostgreSQL's
	// synchronous_commit = off). A background writer fsyncs the log within
	// WALSyncInterval, so a crash of the machine loses at most the commits
	// of that interval, never part of one: what survives is a prefix of the
	// commits. Default false: every commit is fsynced before it returns.
	// Txn.SetAsynchronousCommit overrides it per transaction.
	AsynchronousCommit bool
}

// WALSyncInterval bounds how long an asynchronous commit stays unsynced
// (PostgreSQL's wal_writer_delay plays this part).
const WALSyncInterval = 200 * time.Millisecond

// EnsureDefaults fills unset fields with their defaults and returns o.
func (o *Options) EnsureDefaults() *Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CacheSize == 0 {
		o.CacheSize = 64 << 20
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = 32 << 20
	}
	if o.MaxOpenFiles == 0 {
		o.MaxOpenFiles = 1000
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
	return o
}

// Validate reports a configuration Open cannot use.
func (o *Options) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("storage: Options.Dir is required"))
	}
	if o.CacheSize < 0 {
		errs = append(errs, errors.New("storage: Options.CacheSize must not be negative"))
	}
	if o.MemTableSize != 0 && o.MemTableSize < 1<<20 {
		errs = append(errs, errors.New("storage: Options.MemTableSize must be at least 1 MiB"))
	}
	if o.MaxOpenFiles < 0 {
		errs = append(errs, errors.New("storage: Options.MaxOpenFiles must not be negative"))
	}
	return errors.Join(errs...)
}
