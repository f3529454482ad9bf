package ir

import (
	"context"
	"time"
)

// AddObservable records an indicator seen during the incident. The value is
// checked against its type and stored in canonical form (an IP address in
// its shortest form, a domain in lower case, a hash in lower-case hex);
// adding one the incident already has changes nothing. Its value and
// description are at most [MaxLongText] bytes each, and an incident holds
// at most [MaxListSize] observables.
func (r *Responder) AddObservable(ctx context.Context, actor Actor, id ID, o Observable) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpAddObservable,
		check: func() error { _, err := o.normalize(); return err },
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			return inc.addObservable(o, actor, now)
		}})
}

// AddAsset records an asset the incident affects. Adding one the incident
// already has (same kind and name) changes nothing. Its name is at most
// [MaxShortText] bytes, its description at most [MaxLongText], and an
// incident holds at most [MaxListSize] assets.
func (r *Responder) AddAsset(ctx context.Context, actor Actor, id ID, a Asset) (*Incident, error) {
	return r.mutate(ctx, actor, id, change{op: OpAddAsset,
		check: func() error { _, err := a.normalize(); return err },
		apply: func(_ context.Context, inc *Incident, now time.Time) ([]EventData, error) {
			return inc.addAsset(a, actor, now)
		}})
}

func (inc *Incident) addObservable(o Observable, actor Actor, now time.Time) ([]EventData, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, err
	}
	for _, have := range inc.Observables {
		if have.Type == o.Type && have.Value == o.Value {
			return nil, nil
		}
	}
	if len(inc.Observables) >= MaxListSize {
		return nil, invalid("observables", "", "too many observables")
	}
	o.AddedAt, o.AddedBy = now, actor
	inc.Observables = append(inc.Observables, o)
	return []EventData{&ObservableAdded{Observable: o}}, nil
}

func (inc *Incident) addAsset(a Asset, actor Actor, now time.Time) ([]EventData, error) {
	a, err := a.normalize()
	if err != nil {
		return nil, err
	}
	for _, have := range inc.Assets {
		if have.Kind == a.Kind && have.Name == a.Name {
			return nil, nil
		}
	}
	if len(inc.Assets) >= MaxListSize {
		return nil, invalid("assets", "", "too many assets")
	}
	a.AddedAt, a.AddedBy = now, actor
	inc.Assets = append(inc.Assets, a)
	return []EventData{&AssetAdded{Asset: a}}, nil
}
