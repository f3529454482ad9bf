package ir

import (
	"strings"
	"time"
)

// AssetKind is the kind of an affected asset.
type AssetKind string

// Asset kinds.
const (
	AssetHost          AssetKind = "host"
	AssetAccount       AssetKind = "account"
	AssetApplication   AssetKind = "application"
	AssetDatabase      AssetKind = "database"
	AssetNetwork       AssetKind = "network"
	AssetCloudResource AssetKind = "cloud_resource"
	AssetData          AssetKind = "data"
	AssetOther         AssetKind = "other"
)

var assetKinds = []AssetKind{
	AssetHost, AssetAccount, AssetApplication, AssetDatabase,
	AssetNetwork, AssetCloudResource, AssetData, AssetOther,
}

// ParseAssetKind returns the kind s names, or an [*InvalidError].
func ParseAssetKind(s string) (AssetKind, error) { return parseEnum("asset kind", s, assetKinds) }

// String returns the kind's name.
func (k AssetKind) String() string { return string(k) }

// MarshalText encodes the kind, refusing unknown values.
func (k AssetKind) MarshalText() ([]byte, error) { return marshalEnum("asset kind", k, assetKinds) }

// UnmarshalText decodes a kind, refusing unknown values.
func (k *AssetKind) UnmarshalText(b []byte) error {
	return unmarshalEnum("asset kind", k, b, assetKinds)
}

// Asset is something the incident affects: a host, an account, a service,
// a data set. An incident records each (kind, name) once.
type Asset struct {
	Kind AssetKind `json:"kind"`
	// Name identifies the asset, such as a host name or account name.
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	AddedAt     time.Time `json:"added_at,omitzero"`
	AddedBy     Actor     `json:"added_by,omitzero"`
}

// normalize checks the asset and returns it with its kind in canonical form.
func (a Asset) normalize() (Asset, error) {
	k, err := ParseAssetKind(string(a.Kind))
	if err != nil {
		return Asset{}, err
	}
	a.Kind = k
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" {
		return Asset{}, invalid("asset name", "", "must not be empty")
	}
	if err := checkText("asset name", a.Name, MaxShortText); err != nil {
		return Asset{}, err
	}
	if err := checkText("asset description", a.Description, MaxLongText); err != nil {
		return Asset{}, err
	}
	return a, nil
}
