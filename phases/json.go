package phases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Load reads a model definition written in JSON (the encoding of
// [Definition]) and builds a validated model from it. Unknown fields are
// refused, so a misspelled key is an error rather than silently ignored.
//
// Every error from bad input matches [ErrInvalidModel]. Input that is not a
// definition (malformed JSON, an unknown field, a value of the wrong type,
// data after the definition) is a [*DecodeError] saying where, by line and
// column; a definition beyond a size limit (larger than
// [MaxDefinitionBytes], more phases than [MaxPhases], and the other limits
// listed there), a [*LimitError] saying which; problems with the model
// itself are reported together as a [*ValidationError]. Load reads at most
// MaxDefinitionBytes+1 bytes, and its time is linear in what it reads.
func Load(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDefinitionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("phases: load model: %w", err)
	}
	if len(data) > MaxDefinitionBytes {
		return nil, &LimitError{Limit: "MaxDefinitionBytes", What: "the definition", Unit: "bytes",
			Got: len(data), Max: MaxDefinitionBytes}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var def Definition
	if err := dec.Decode(&def); err != nil {
		return nil, decodeError(data, err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		end += int64(len(data[end:]) - len(bytes.TrimLeft(data[end:], " \t\r\n")))
		return nil, newDecodeError(data, end, errors.New("unexpected data after the definition"))
	}
	return New(def)
}

// decodeError returns the [*DecodeError] of err, an error from decoding
// data, with the position of its cause.
func decodeError(data []byte, err error) *DecodeError {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		// The offset is that of the byte after the one that was wrong.
		return newDecodeError(data, syntax.Offset-1, err)
	case errors.As(err, &typ):
		return newDecodeError(data, typ.Offset-1, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return newDecodeError(data, int64(len(data)), err)
	}
	if name, ok := unknownField(err); ok {
		if off, ok := keyOffset(data, name); ok {
			return newDecodeError(data, off, err)
		}
	}
	return newDecodeError(data, 0, err)
}

// unknownField returns the name in the error encoding/json returns for
// an unknown field, which has no type of its own.
func unknownField(err error) (string, bool) {
	quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, err := strconv.Unquote(quoted)
	return name, err == nil
}

// keyOffset returns the offset in data of the first object key named name.
func keyOffset(data []byte, name string) (int64, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	// container is an open object or array; key is set in an object
	// whose next token is a key.
	type container struct{ object, key bool }
	var open []container
	for {
		tok, err := dec.Token()
		if err != nil {
			return 0, false
		}
		top := len(open) - 1
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if top >= 0 && open[top].object {
					open[top].key = true // once this value closes
				}
				open = append(open, container{object: d == '{', key: d == '{'})
			default:
				open = open[:top]
			}
			continue
		}
		if top < 0 || !open[top].object {
			continue
		}
		if !open[top].key {
			open[top].key = true // a value: a key comes next
			continue
		}
		open[top].key = false
		if tok != name {
			continue
		}
		// The key ends just before the decoder's offset: find its
		// opening quote.
		for i := dec.InputOffset() - 2; i >= 0; i-- {
			if data[i] == '"' && (i == 0 || data[i-1] != '\\') {
				return i, true
			}
		}
		return 0, false
	}
}

// MarshalJSON encodes the model's [Definition], which [Load] reads back.
// Guards added with [Model.WithGuards] are code and are not encoded.
func (m *Model) MarshalJSON() ([]byte, error) { return json.Marshal(m.def) }
