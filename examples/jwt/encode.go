package main

import (
	"encoding/base64"
	"encoding/json"
)

// encodeJSON returns v as base64url JSON, the form of a JWT segment.
func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
