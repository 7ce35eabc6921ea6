package storage

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirdb/weir/sql/types"
)

// SyncCommitted while the WAL syncer is in the middle of its fsync: it
// must not return before that fsync is done (the syncer took the flag
// that says one is needed), or a sink would deliver an epoch that a crash
// could still undo.
func TestSyncCommittedWaitsForTheSyncerFsync(t *testing.T) {
	ctx := context.Background()
	db, err := Open(Options{Dir: t.TempDir(), AsynchronousCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	syncing, release := make(chan struct{}), make(chan struct{})
	var released atomic.Bool
	unblock := sync.OnceFunc(func() {
		released.Store(true)
		close(release)
	})
	defer unblock() // before Close, which waits for the syncer
	var once sync.Once
	// Set before the commit that the syncer's flag reads publishes it.
	db.testHookSync = func() {
		once.Do(func() {
			close(syncing)
			<-release
		})
	}
	txn := db.Begin()
	if err := txn.Insert(ctx, logs, types.Row{types.NewText("one"), types.Null}); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	<-syncing // the syncer took the flag; its fsync waits for release
	returned := make(chan bool, 1)
	go func() {
		err := db.SyncCommitted()
		returned <- err == nil && released.Load()
	}()
	select {
	case ok := <-returned:
		t.Fatalf("SyncCommitted returned (after the fsync: %v) while the syncer's fsync was held", ok)
	case <-time.After(50 * time.Millisecond):
	}
	unblock()
	if !<-returned {
		t.Fatal("SyncCommitted returned before the syncer's fsync")
	}
}
