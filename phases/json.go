package phases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// maxDefinitionSize bounds how much [Load] reads, so a hostile input cannot
// exhaust memory.
const maxDefinitionSize = 1 << 20

// Load reads a model definition written in JSON (the encoding of
// [Definition]) and builds a validated model from it. Unknown fields are
// refused, so a misspelled key is an error rather than silently ignored.
// Problems with the model itself are reported together as a
// [*ValidationError].
func Load(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDefinitionSize+1))
	if err != nil {
		return nil, fmt.Errorf("phases: load model: %w", err)
	}
	if len(data) > maxDefinitionSize {
		return nil, fmt.Errorf("phases: load model: definition is larger than %d bytes", maxDefinitionSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var def Definition
	if err := dec.Decode(&def); err != nil {
		return nil, fmt.Errorf("phases: load model: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("phases: load model: unexpected data after the definition")
	}
	return New(def)
}

// MarshalJSON encodes the model's [Definition], which [Load] reads back.
// Guards added with [Model.WithGuards] are code and are not encoded.
func (m *Model) MarshalJSON() ([]byte, error) { return json.Marshal(m.def) }
