package evidence

import (
	"testing"
)

// BenchmarkDecodeRecord measures decoding and validating one custody
// record as verification does, without the leaf hash.
func BenchmarkDecodeRecord(b *testing.B) {
	log, _ := chunkedLog(b, 2000)
	d := newRecordDecoder()
	var r Record
	b.ResetTimer()
	for i := range b.N {
		data := log.Records[i%len(log.Records)]
		if !d.decode(data, &r) || d.validate(&r, data) != nil {
			b.Fatal("refused")
		}
	}
}
