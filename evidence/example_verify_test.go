package evidence_test

import (
	"fmt"
	"log"

	"github.com/incidentkit/incidentkit/evidence"
)

// A log with a problem in every record, as a hostile party may send, gets
// a report of bounded size: the first problems listed, the rest counted.
func ExampleVerifyLogWith() {
	_, vkey, err := evidence.GenerateKey("custody.example.org")
	if err != nil {
		log.Fatal(err)
	}
	hostile := evidence.CaseLog{Case: "INC-2026-0042", Origin: "custody.example.org/INC-2026-0042"}
	for range 10_000 {
		hostile.Records = append(hostile.Records, []byte("x"))
	}
	rep := evidence.VerifyLogWith(hostile, vkey, evidence.VerifyOptions{MaxProblems: 3})
	fmt.Println("problems found:", rep.ProblemCount())
	fmt.Println("listed:", len(rep.Problems))
	fmt.Println("omitted:", rep.Omitted)
	// Output:
	// problems found: 10000
	// listed: 3
	// omitted: 9997
}
