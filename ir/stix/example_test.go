package stix_test

import (
	"fmt"

	"github.com/incidentkit/incidentkit/ir"
	"github.com/incidentkit/incidentkit/ir/stix"
)

func ExampleExport() {
	inc := &ir.Incident{
		ID: "INC-20260302-0900-3fa2c", Title: "Phishing wave against finance", TLP: ir.TLPGreen,
		Observables: []ir.Observable{
			{Type: ir.ObservableDomain, Value: "login-finance.example.net", Malicious: true, AddedAt: at(5)},
		},
		Times:     ir.Lifecycle{Opened: at(0)},
		UpdatedAt: at(10),
		Version:   3,
	}
	b, err := stix.Export(inc, stix.Options{Creator: "Example Corp CSIRT"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range b.Objects {
		switch o := o.(type) {
		case *stix.Observable:
			fmt.Println(o.ID)
		case *stix.Indicator:
			fmt.Println(o.Pattern)
		}
	}
	// Output:
	// domain-name--11b493ca-1823-5845-86a5-ec832c16c97d
	// [domain-name:value = 'login-finance.example.net']
}

// The incident carries the incident core extension: what the
// investigation concluded and where it stands.
func ExampleExport_incidentCore() {
	inc := &ir.Incident{
		ID: "INC-20260302-0900-3fa2c", Title: "Phishing wave against finance",
		Severity: ir.SeverityCritical, Category: ir.CategoryPhishing, Verdict: ir.VerdictTruePositive,
		Times:     ir.Lifecycle{Opened: at(0), Acknowledged: at(3)},
		UpdatedAt: at(10),
		Version:   3,
	}
	b, err := stix.Export(inc, stix.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range b.Objects {
		if o, ok := o.(*stix.Incident); ok {
			c := o.Extensions.Core
			fmt.Println(c.Determination, c.InvestigationStatus, *c.Criticality, c.IncidentTypes)
		}
	}
	// Output:
	// confirmed open 95 [dissemination-phishing-emails]
}
