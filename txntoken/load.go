package txntoken

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
)

// MaxSchemaSize caps a schema document read by ParseRegistry and
// LoadRegistry, in bytes.
const MaxSchemaSize = 1 << 20

// The schema document, as ParseRegistry reads it:
//
//	{
//	  "max_subject_length": 255,
//	  "operations": {
//	    "payment_initiate": {
//	      "version": 1,
//	      "lifetime": "60s",
//	      "audience": "https://payments.example",
//	      "max_size": 1024,
//	      "required_scopes": ["write"],
//	      "claims": {
//	        "amount":   {"type": "integer", "required": true, "min": 1, "max": 100000},
//	        "currency": {"type": "string", "max_length": 3, "pattern": "[A-Z]{3}"}
//	      }
//	    }
//	  }
//	}
type schemaDoc struct {
	MaxSubjectLength int                        `json:"max_subject_length,omitempty"`
	Operations       map[string]json.RawMessage `json:"operations"`
}

type operationDoc struct {
	Version        int                        `json:"version"`
	Lifetime       string                     `json:"lifetime,omitempty"`
	Audience       string                     `json:"audience,omitempty"`
	MaxSize        int                        `json:"max_size,omitempty"`
	RequiredScopes []string                   `json:"required_scopes,omitempty"`
	Claims         map[string]json.RawMessage `json:"claims"`
}

type claimDoc struct {
	Type      Type     `json:"type"`
	Required  bool     `json:"required,omitempty"`
	MaxLength int      `json:"max_length,omitempty"`
	Pattern   string   `json:"pattern,omitempty"`
	Enum      []string `json:"enum,omitempty"`
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
}

// LoadRegistry reads the schema document at path; see ParseRegistry.
func LoadRegistry(path string) (*Registry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("txntoken: schema: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSchemaSize+1))
	if err != nil {
		return nil, fmt.Errorf("txntoken: schema: reading %s: %w", path, err)
	}
	return ParseRegistry(data)
}

// ParseRegistry parses a JSON schema document and returns its registry.
// Unknown fields, duplicate object keys and invalid definitions are errors.
// Every error is a *SchemaError that names the operation and claim at fault
// (and the line and column for JSON syntax errors).
func ParseRegistry(data []byte) (*Registry, error) {
	if len(data) > MaxSchemaSize {
		return nil, &SchemaError{Reason: fmt.Sprintf("document exceeds %d bytes", MaxSchemaSize)}
	}
	if err := checkDuplicateKeys(data); err != nil {
		return nil, err
	}
	var doc schemaDoc
	if err := decodeStrict(data, &doc); err != nil {
		return nil, &SchemaError{Reason: describeJSONError(data, err)}
	}
	if doc.Operations == nil {
		return nil, &SchemaError{Reason: `"operations" object is missing`}
	}
	ops := make([]Operation, 0, len(doc.Operations))
	// Sorted names make the first error reported reproducible.
	for _, name := range slices.Sorted(maps.Keys(doc.Operations)) {
		op, err := parseOperation(name, doc.Operations[name])
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return NewRegistry(RegistryConfig{MaxSubjectLength: doc.MaxSubjectLength}, ops...)
}

func parseOperation(name string, raw json.RawMessage) (Operation, error) {
	var od operationDoc
	if err := decodeStrict(raw, &od); err != nil {
		return Operation{}, &SchemaError{Operation: name, Reason: describeJSONError(raw, err)}
	}
	op := Operation{
		Name:           name,
		Version:        od.Version,
		Audience:       od.Audience,
		MaxSize:        od.MaxSize,
		RequiredScopes: od.RequiredScopes,
	}
	if od.Lifetime != "" {
		d, err := time.ParseDuration(od.Lifetime)
		if err != nil {
			return Operation{}, &SchemaError{Operation: name, Reason: fmt.Sprintf(`lifetime %q is not a duration such as "60s"`, od.Lifetime)}
		}
		if d <= 0 {
			return Operation{}, &SchemaError{Operation: name, Reason: fmt.Sprintf("lifetime %q must be positive", od.Lifetime)}
		}
		op.Lifetime = d
	}
	if od.Claims == nil {
		return Operation{}, &SchemaError{Operation: name, Reason: `"claims" object is missing; use {} for an operation without context claims`}
	}
	for _, claimName := range slices.Sorted(maps.Keys(od.Claims)) {
		var cd claimDoc
		if err := decodeStrict(od.Claims[claimName], &cd); err != nil {
			return Operation{}, &SchemaError{Operation: name, Claim: claimName, Reason: describeJSONError(raw, err)}
		}
		op.Claims = append(op.Claims, Claim{
			Name:      claimName,
			Type:      cd.Type,
			Required:  cd.Required,
			MaxLength: cd.MaxLength,
			Pattern:   cd.Pattern,
			Enum:      cd.Enum,
			Min:       cd.Min,
			Max:       cd.Max,
		})
	}
	return op, nil
}

// MarshalJSON encodes r as a schema document that ParseRegistry reads back.
func (r *Registry) MarshalJSON() ([]byte, error) {
	doc := struct {
		MaxSubjectLength int                     `json:"max_subject_length"`
		Operations       map[string]operationOut `json:"operations"`
	}{MaxSubjectLength: r.maxSubjectLength, Operations: make(map[string]operationOut, len(r.ops))}
	for name, op := range r.ops {
		out := operationOut{
			Version:        op.Version,
			Lifetime:       op.Lifetime.String(),
			Audience:       op.Audience,
			MaxSize:        op.MaxSize,
			RequiredScopes: op.RequiredScopes,
			Claims:         make(map[string]claimDoc, len(op.Claims)),
		}
		for _, c := range op.Claims {
			out.Claims[c.Name] = claimDoc{Type: c.Type, Required: c.Required, MaxLength: c.MaxLength, Pattern: c.Pattern, Enum: c.Enum, Min: c.Min, Max: c.Max}
		}
		doc.Operations[name] = out
	}
	return json.Marshal(doc)
}

type operationOut struct {
	Version        int                 `json:"version"`
	Lifetime       string              `json:"lifetime"`
	Audience       string              `json:"audience,omitempty"`
	MaxSize        int                 `json:"max_size"`
	RequiredScopes []string            `json:"required_scopes,omitempty"`
	Claims         map[string]claimDoc `json:"claims"`
}

// decodeStrict decodes one JSON object into the struct pointed to by v,
// rejecting unknown fields and data after the object.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the top-level value")
	}
	return checkFieldCase(data, v)
}

// checkFieldCase rejects object keys that match a field of the struct v
// points to only when case is ignored. encoding/json accepts such keys and
// keeps the last of "max_length" and "MAX_LENGTH", so a hand-edited schema
// could silently get a value other than the one a reviewer read.
func checkFieldCase(data []byte, v any) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return nil // unreachable: Decode accepted an object or null
	}
	t := reflect.TypeOf(v).Elem()
	for key := range obj {
		known := false
		want := ""
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name == key {
				known = true
				break
			}
			if strings.EqualFold(name, key) {
				want = name
			}
		}
		if !known {
			return fmt.Errorf("unknown field %q: field names are case-sensitive, use %q", key, want)
		}
	}
	return nil
}

// describeJSONError turns a decoding error into text that names the field
// and, for syntax errors, the line and column.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineColumn(data, syn.Offset)
		return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Sprintf("expected a JSON %s, found %s", describeGoType(typ.Type.Kind().String()), typ.Value)
		}
		return fmt.Sprintf("field %q must be a JSON %s, found %s", field, describeGoType(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "document is truncated or empty"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + f
	}
	return strings.TrimPrefix(msg, "json: ")
}

func describeGoType(kind string) string {
	switch kind {
	case "int", "float64", "ptr":
		return "number"
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	}
	return kind
}

func lineColumn(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// checkDuplicateKeys rejects a document with a repeated object key anywhere.
// encoding/json keeps the last of two equal keys, so a schema edited by hand
// could silently lose a definition.
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var path []string
	if err := walkValue(dec, &path); err != nil {
		var se *SchemaError
		if errors.As(err, &se) {
			return se
		}
		return &SchemaError{Reason: describeJSONError(data, err)}
	}
	return nil
}

func walkValue(dec *json.Decoder, path *[]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := make(map[string]bool)
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if seen[key] {
				return duplicateKeyError(*path, key)
			}
			seen[key] = true
			*path = append(*path, key)
			if err := walkValue(dec, path); err != nil {
				return err
			}
			*path = (*path)[:len(*path)-1]
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for dec.More() {
			if err := walkValue(dec, path); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// duplicateKeyError names the operation and claim under which key repeats;
// path is the chain of keys leading to the object holding it.
func duplicateKeyError(path []string, key string) *SchemaError {
	e := &SchemaError{}
	if len(path) >= 2 && path[0] == "operations" {
		e.Operation = path[1]
	}
	if len(path) >= 4 && path[0] == "operations" && path[2] == "claims" {
		e.Claim = path[3]
	}
	switch {
	case len(path) == 1 && path[0] == "operations":
		e.Operation = key
		e.Reason = "defined twice"
	case len(path) == 3 && path[2] == "claims":
		e.Claim = key
		e.Reason = "defined twice"
	default:
		e.Reason = fmt.Sprintf("key %q appears twice", key)
	}
	return e
}
