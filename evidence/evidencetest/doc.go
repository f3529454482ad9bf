// Package evidencetest holds the conformance suites for the stores of
// package evidence, as testing/slogtest is for slog handlers.
//
// [TestBlobStore] checks an implementation of [evidence.BlobStore]. Each
// store package runs it from its tests with a function that makes a fresh,
// empty store:
//
//	func TestBlobStore(t *testing.T) {
//		evidencetest.TestBlobStore(t, func(t *testing.T) evidence.BlobStore {
//			s, err := evidence.NewDirBlobs(t.TempDir())
//			require.NoError(t, err)
//			return s
//		})
//	}
//
// [TestLedgerStore] checks an [evidence.LedgerStore] in the same way, and
// [TestWitness] an [evidence.Witness].
package evidencetest
