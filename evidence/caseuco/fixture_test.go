package caseuco_test

import (
	"flag"
	"testing"

	"github.com/incidentkit/incidentkit/evidence"
	"github.com/incidentkit/incidentkit/evidence/internal/custodycase"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// The case is package custodycase's, shared with the other packages'
// tests so that they describe the same case.
var (
	reportZoneBoston = custodycase.ZoneBoston
	reportT0         = custodycase.T0

	reportBob = custodycase.Bob
)

const reportCaseID = custodycase.ID

type reportCase = custodycase.Case

func newReportCase(t testing.TB, blobs evidence.BlobStore) *reportCase {
	return custodycase.New(t, blobs)
}

func reportSigningKey(t testing.TB) (evidence.SigningKey, string) { return custodycase.SigningKey(t) }

// custodyGolden compares got with the golden file at path, or rewrites the
// file when the tests run with -update.
func custodyGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	custodycase.Golden(t, path, got, *updateGolden)
}

type reportFailingWriter struct{ err error }

func (f reportFailingWriter) Write([]byte) (int, error) { return 0, f.err }
