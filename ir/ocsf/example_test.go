package ocsf_test

import (
	"fmt"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/ocsf"
)

func ExampleExport() {
	inc := &ir.Incident{
		ID: "INC-20260302-0900-3fa2c", Title: "Phishing wave against finance",
		Severity: ir.SeverityHigh, Priority: ir.PriorityP2, Verdict: ir.VerdictTruePositive,
		Times:     ir.Lifecycle{Opened: at(0), Resolved: at(90), Closed: at(95)},
		UpdatedAt: at(95),
		Version:   12,
	}
	f, err := ocsf.Export(inc, ocsf.Options{Team: "Example Corp CSIRT"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.ClassUID, f.TypeUID, f.TypeName)
	fmt.Println(f.Severity, f.Status, f.Verdict)
	// Output:
	// 2005 200503 Incident Finding: Close
	// High Closed True Positive
}
