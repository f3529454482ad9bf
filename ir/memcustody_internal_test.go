package ir

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/incidentkit/incidentkit/evidence"
)

// TestCustodyConflictSaysItOnce checks that the memory store's custody
// conflicts match both packages' sentinels and name each once.
func TestCustodyConflictSaysItOnce(t *testing.T) {
	t.Parallel()
	err := custodyConflict("custody item ITEM-1 exists")
	assert.True(t, errors.Is(err, ErrConflict))
	assert.True(t, errors.Is(err, evidence.ErrConflict))
	assert.Equal(t, "ir: memory store: custody item ITEM-1 exists: conflict", err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "conflict"))
}
