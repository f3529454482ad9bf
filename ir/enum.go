package ir

import "strings"

// parseEnum returns the value of values that s names, ignoring case and
// surrounding space, or an [*InvalidError] listing the valid values.
func parseEnum[T ~string](field, s string, values []T) (T, error) {
	t := strings.TrimSpace(s)
	for _, v := range values {
		if strings.EqualFold(string(v), t) {
			return v, nil
		}
	}
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return "", invalid(field, s, "unknown "+field+"; want one of "+strings.Join(names, ", "))
}

// marshalEnum encodes v, refusing values that are not in values. The empty
// value encodes as empty: it means "not set".
func marshalEnum[T ~string](field string, v T, values []T) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	canonical, err := parseEnum(field, string(v), values)
	if err != nil {
		return nil, err
	}
	return []byte(canonical), nil
}

// unmarshalEnum decodes text into v, refusing unknown values. Empty text
// decodes to the empty value.
func unmarshalEnum[T ~string](field string, v *T, text []byte, values []T) error {
	if len(text) == 0 {
		*v = ""
		return nil
	}
	p, err := parseEnum(field, string(text), values)
	if err != nil {
		return err
	}
	*v = p
	return nil
}
