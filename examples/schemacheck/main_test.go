package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRun(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"operations":{"p":{"version":1,"claims":{"a":{"type":"string"}}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		status int
		output string
	}{
		{"unchanged", []string{"testdata/v1.json", "testdata/v1.json"}, 0, "0 change(s), none breaking"},
		{"safe", []string{"testdata/v1.json", "testdata/v2-safe.json"}, 0, "safe     claim_added operation=payment_initiate claim=memo"},
		{"breaking", []string{"testdata/v1.json", "testdata/v2-breaking.json"}, 1, "BREAKING operation_removed operation=user_profile"},
		{"type change", []string{"testdata/v1.json", "testdata/v2-breaking.json"}, 1, "BREAKING type_changed operation=payment_initiate claim=amount: integer -> number"},
		{"made required", []string{"testdata/v1.json", "testdata/v2-breaking.json"}, 1, "BREAKING made_required operation=payment_initiate claim=currency"},
		{"invalid schema", []string{"testdata/v1.json", bad}, 2, `claim "a": string claim needs a max_length`},
		{"missing file", []string{"testdata/v1.json", "testdata/none.json"}, 2, "no such file"},
		{"usage", []string{"one"}, 2, "usage:"},
		{"help", []string{"-h"}, 0, "Exit status: 0 when every change is safe"},
		{"long help", []string{"--help"}, 0, "usage:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			status := run(tt.args, &out, &errOut)
			assert.Equal(t, tt.status, status)
			assert.Contains(t, out.String()+errOut.String(), tt.output)
		})
	}
}
