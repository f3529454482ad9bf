package ir

import (
	"bytes"
	"encoding"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// jsonFiller fills values of any type with random content, by reflection,
// so that a field added to any type the AppendJSON methods write is filled
// too, and a method that leaves it out fails the comparison with
// json.Marshal.
type jsonFiller struct {
	rnd *rand.Rand
	// texts are the strings fields are filled with.
	texts []string
	// times are instants times are filled with, in various zones.
	times []time.Time
	// valid holds, by enum type, the values its MarshalText writes as
	// they are.
	valid map[reflect.Type][]string
}

// fillerTexts are strings that exercise the escaping of encoding/json:
// HTML characters, control characters, quotes, U+2028 and U+2029, invalid
// UTF-8, multi-byte characters, and every enum value in several cases.
var fillerTexts = func() []string {
	out := []string{"", "a", "Alice Moreau", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\r\b\f",
		"\x00\x01\x1f\x7f", "line\u2028para\u2029", "bad \xff\xfe utf8", "\xe2\x82", "héllo wörld 日本語 🚨", "\ufffd",
		"containment", "eradication", "INC-0001", "  spaced  "}
	for _, values := range [][]string{
		strs(severities), strs(priorities), strs(categories), strs(tlps), strs(verdicts), strs(roles),
		strs(actorKinds), strs(assetKinds), strs(observableTypes), strs(functionalImpacts),
		strs(informationImpacts), strs(recoverabilities), strs(evidenceKinds),
	} {
		for _, v := range values {
			out = append(out, v, strings.ToUpper(v))
		}
	}
	return out
}()

// strs returns values as strings.
func strs[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// newJSONFiller returns a filler drawing from rnd, with extra texts and
// times besides the usual ones.
func newJSONFiller(rnd *rand.Rand, texts []string, times []time.Time) *jsonFiller {
	east := time.FixedZone("east", 5*3600+30*60)
	west := time.FixedZone("west", -8*3600)
	odd := time.FixedZone("odd", 3600+7) // seconds in the offset
	base := []time.Time{
		{}, time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC), time.Date(2026, 3, 14, 15, 9, 26, 0, east),
		time.Date(1999, 12, 31, 23, 59, 59, 100, west), time.Date(2026, 1, 2, 3, 4, 5, 6000, odd),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Unix(1_700_000_000, 123).In(time.Local),
	}
	return &jsonFiller{rnd: rnd, texts: append(append([]string(nil), fillerTexts...), texts...),
		times: append(base, times...), valid: map[reflect.Type][]string{}}
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	eventDataType     = reflect.TypeFor[EventData]()
)

// fill fills v, which must be settable.
func (f *jsonFiller) fill(v reflect.Value, depth int) {
	t := v.Type()
	switch {
	case t == timeType:
		v.Set(reflect.ValueOf(f.times[f.rnd.IntN(len(f.times))]))
		return
	case t.Kind() == reflect.String && t.Implements(textMarshalerType):
		v.SetString(f.enumValue(t))
		return
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(f.texts[f.rnd.IntN(len(f.texts))])
	case reflect.Bool:
		v.SetBool(f.rnd.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt([]int64{0, 1, -1, 42, 1 << 53, -1 << 63}[f.rnd.IntN(6)])
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() && f.rnd.IntN(5) != 0 {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		switch n := f.rnd.IntN(5); {
		case n == 0 || depth > 4:
			// nil
		case n == 1:
			v.Set(reflect.MakeSlice(t, 0, 0))
		default:
			s := reflect.MakeSlice(t, n-1, n-1)
			for i := range n - 1 {
				f.fill(s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Pointer:
		if f.rnd.IntN(8) == 0 {
			return
		}
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Interface:
		if t != eventDataType || f.rnd.IntN(10) == 0 {
			return
		}
		types := []EventType{EventOpened, EventPhaseChanged, EventSeverityChanged, EventPriorityChanged,
			EventImpactAssessed, EventRoleAssigned, EventRoleUnassigned, EventTaskAdded, EventTaskCompleted,
			EventObservableAdded, EventAssetAdded, EventNoteAdded, EventDecisionRecorded, EventVerdictSet,
			EventEvidenceCollected, EventReviewRecorded, EventFollowUpAdded, EventFollowUpDone}
		data := eventDataTypes[types[f.rnd.IntN(len(types))]]()
		p := reflect.ValueOf(data)
		if f.rnd.IntN(20) == 0 {
			p = reflect.Zero(p.Type()) // a typed nil
		} else {
			f.fill(p.Elem(), depth+1)
		}
		v.Set(p)
	default:
		panic("jsonFiller: no way to fill " + t.String())
	}
}

// enumValue returns a value for the enum type t: mostly one its
// MarshalText writes as it is, sometimes empty, another case of one, or
// any text.
func (f *jsonFiller) enumValue(t reflect.Type) string {
	valid, ok := f.valid[t]
	if !ok {
		for _, s := range f.texts {
			v := reflect.New(t).Elem()
			v.SetString(s)
			out, err := v.Interface().(encoding.TextMarshaler).MarshalText()
			if err == nil && string(out) == s && s != "" {
				valid = append(valid, s)
			}
		}
		f.valid[t] = valid
	}
	switch n := f.rnd.IntN(40); {
	case n == 0:
		return ""
	case n == 1:
		return f.texts[f.rnd.IntN(len(f.texts))]
	case len(valid) == 0:
		return ""
	case n == 2:
		return strings.ToUpper(valid[f.rnd.IntN(len(valid))])
	default:
		return valid[f.rnd.IntN(len(valid))]
	}
}

// checkAppendJSON compares what AppendJSON appends for v with what
// json.Marshal writes, after a prefix that must be kept, and reports
// whether the direct encoder wrote v without falling back.
func checkAppendJSON(t *testing.T, v any) (direct bool) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	prefix := []byte("prefix:")
	var (
		got []byte
		err error
		e   = jsonEncoder{b: prefix}
	)
	switch x := v.(type) {
	case *Incident:
		got, err = x.AppendJSON(prefix)
		e.incident(x)
	case *Event:
		got, err = x.AppendJSON(prefix)
		e.event(x)
	case *Observable:
		got, err = x.AppendJSON(prefix)
		e.observable(x)
	case *Task:
		got, err = x.AppendJSON(prefix)
		e.task(x)
	default:
		t.Fatalf("no AppendJSON for %T", v)
	}
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%T: AppendJSON error %v, json.Marshal error %v", v, err, wantErr)
	}
	if err != nil {
		if err.Error() != wantErr.Error() {
			t.Fatalf("%T: AppendJSON error %q, json.Marshal error %q", v, err, wantErr)
		}
		return false
	}
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("%T: AppendJSON wrote\n%s\njson.Marshal wrote\n%s", v, got, want)
	}
	if !e.fallback && !bytes.Equal(e.b[len(prefix):], want) {
		t.Fatalf("%T: the direct encoder wrote\n%s\njson.Marshal wrote\n%s", v, e.b[len(prefix):], want)
	}
	return !e.fallback
}

// TestAppendJSONMatchesMarshal fills incidents, events, observables and
// tasks with random content and checks that AppendJSON writes what
// json.Marshal writes, and that most of them take the direct path.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	f := newJSONFiller(rand.New(rand.NewPCG(1, 2)), nil, nil)
	makers := map[string]func() any{
		"incident":   func() any { return new(Incident) },
		"event":      func() any { return new(Event) },
		"observable": func() any { return new(Observable) },
		"task":       func() any { return new(Task) },
	}
	for name, mk := range makers {
		t.Run(name, func(t *testing.T) {
			const n = 3000
			direct := 0
			for range n {
				v := mk()
				f.fill(reflect.ValueOf(v).Elem(), 0)
				if checkAppendJSON(t, v) {
					direct++
				}
			}
			t.Logf("%d of %d written directly", direct, n)
			// Enough values take the direct path for the comparison to
			// test it, not only the fallback.
			if direct < n/10 {
				t.Fatalf("only %d of %d values were written directly", direct, n)
			}
		})
	}
}

// TestAppendJSONDecodes checks that what AppendJSON writes for an incident
// and its events decodes to the values encoded, as the stores read them.
func TestAppendJSONDecodes(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)
	alice := Actor{ID: "alice", Name: "Alice <Moreau>", Kind: ActorHuman}
	inc := &Incident{ID: "INC-1", Title: "Phishing & <script>", Severity: SeverityHigh, Priority: PriorityP2,
		Category: CategoryPhishing, TLP: TLPAmber, Model: "sans", Phase: "containment",
		PhaseHistory: []PhaseInterval{{Phase: "identification", Entered: at, Left: at.Add(time.Hour)}, {Phase: "containment", Action: "contain", Entered: at.Add(time.Hour)}},
		Participants: []Participant{{Actor: alice, Role: RoleCommander, AssignedAt: at, AssignedBy: alice}},
		Labels:       []string{"mail", "ceo"}, Times: Lifecycle{Opened: at, Reported: at, Detected: at},
		OpenedBy: alice, UpdatedAt: at, Version: 4}
	b, err := inc.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got Incident
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, inc) {
		t.Fatalf("decoded %+v, want %+v", got, *inc)
	}
	ev := &Event{IncidentID: "INC-1", Seq: 3, Version: 4, Type: EventPhaseChanged, At: at, Actor: alice,
		Reason: "spread\u2028stopped", Data: &PhaseChanged{Action: "eradicate", From: "containment", To: "eradication"}}
	b, err = ev.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var gotEv Event
	if err := json.Unmarshal(b, &gotEv); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&gotEv, ev) {
		t.Fatalf("decoded %+v, want %+v", gotEv, *ev)
	}
}

// TestAppendJSONRefusesAsMarshal checks that a value json.Marshal refuses
// is refused with its error, and that a non-canonical enum value is
// written in its canonical form, as json.Marshal writes it.
func TestAppendJSONRefusesAsMarshal(t *testing.T) {
	for name, inc := range map[string]*Incident{
		"unknown severity": {ID: "INC-1", Severity: "catastrophic"},
		"year 10000":       {ID: "INC-1", UpdatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"negative year":    {ID: "INC-1", Times: Lifecycle{Opened: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		"offset of a day":  {ID: "INC-1", UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 24*3600))},
		"upper case":       {ID: "INC-1", Severity: "HIGH", OpenedBy: Actor{ID: "a", Kind: "Service"}},
	} {
		t.Run(name, func(t *testing.T) {
			if checkAppendJSON(t, inc) {
				t.Fatal("written directly; want it left to encoding/json")
			}
		})
	}
}

// FuzzAppendJSON checks AppendJSON against json.Marshal on values whose
// shape follows seed and whose texts and times come from the fuzzer.
func FuzzAppendJSON(f *testing.F) {
	f.Add(uint64(1), "hello", "<b>\u2028", int64(1_700_000_000), int64(5))
	f.Add(uint64(7), "\xff", "\x00\"\\", int64(-62135596800), int64(999999999))
	f.Add(uint64(42), "HIGH", "true_positive", int64(253402300799), int64(0))
	f.Fuzz(func(t *testing.T, seed uint64, s1, s2 string, sec, nsec int64) {
		at := time.Unix(sec, nsec)
		f := newJSONFiller(rand.New(rand.NewPCG(seed, seed>>1)), []string{s1, s2, s1 + s2},
			[]time.Time{at, at.In(time.FixedZone("fz", int(nsec%86400)))})
		for _, v := range []any{new(Incident), new(Event), new(Observable), new(Task)} {
			f.fill(reflect.ValueOf(v).Elem(), 0)
			checkAppendJSON(t, v)
		}
	})
}

// BenchmarkAppendJSONReviewed compares AppendJSON with json.Marshal on an
// incident with a post-incident review and follow-ups, which the stores
// encode on every change made after the review.
func BenchmarkAppendJSONReviewed(b *testing.B) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	alice := Actor{ID: "alice", Name: "Alice Moreau", Kind: ActorHuman}
	inc := &Incident{ID: "INC-1", Title: "Phishing against finance", Severity: SeverityHigh, Priority: PriorityP2,
		Category: CategoryPhishing, TLP: TLPAmber, Model: "sans-picerl", Phase: "closed",
		PhaseHistory: []PhaseInterval{{Phase: "preparation", Entered: at, Left: at}, {Phase: "closed", Action: "close", Entered: at}},
		Review: &Review{Summary: strings.Repeat("What happened. ", 20), RootCause: "Webmail accepted passwords alone",
			ContributingFactors: []string{"Look-alike domain", "No banner"}, WentWell: []string{"Fast report"},
			WentPoorly: []string{"Slow paging"}, LessonsLearned: []string{"Test paging"}, Revision: 1, RecordedAt: at, RecordedBy: alice},
		Times: Lifecycle{Opened: at, Closed: at}, OpenedBy: alice, UpdatedAt: at, Version: 40}
	for i := range 10 {
		inc.FollowUps = append(inc.FollowUps, FollowUp{ID: i + 1, Title: "Follow-up action", Owner: alice, Due: at,
			AddedAt: at, AddedBy: alice})
	}
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = inc.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(inc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
