package ocsf_test

import (
	"time"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/internal/exportcase"
)

// at returns a fixed moment, minutes after 2026-03-02 09:00 UTC.
func at(minutes int) time.Time { return exportcase.At(minutes) }

// sample returns the export packages' shared incident ([exportcase.Sample]).
func sample() *ir.Incident { return exportcase.Sample() }
