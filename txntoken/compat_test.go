package txntoken

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompare(t *testing.T) {
	base := func() Operation {
		return Operation{
			Name: "pay", Version: 1, Audience: "a", MaxSize: 1000, RequiredScopes: []string{"write"},
			Claims: []Claim{
				{Name: "amount", Type: TypeInteger, Required: true, Min: ptr(1), Max: ptr(1000)},
				{Name: "note", Type: TypeString, MaxLength: 10, Pattern: "[a-z]*"},
				{Name: "channel", Type: TypeString, MaxLength: 8, Enum: []string{"web", "mobile"}},
				{Name: "express", Type: TypeBoolean},
				{Name: "rate", Type: TypeNumber},
			},
		}
	}
	tests := []struct {
		name     string
		edit     func(*Operation)
		kind     ChangeKind
		claim    string
		breaking bool
	}{
		{"claim removed", func(o *Operation) { o.Claims = o.Claims[1:] }, ClaimRemoved, "amount", true},
		{"optional claim added", func(o *Operation) {
			o.Claims = append(o.Claims, Claim{Name: "ref", Type: TypeString, MaxLength: 5})
		}, ClaimAdded, "ref", false},
		{"required claim added", func(o *Operation) {
			o.Claims = append(o.Claims, Claim{Name: "ref", Type: TypeString, MaxLength: 5, Required: true})
		}, ClaimAdded, "ref", true},
		{"type changed", func(o *Operation) { o.Claims[3] = Claim{Name: "express", Type: TypeString, MaxLength: 5} }, TypeChanged, "express", true},
		{"made required", func(o *Operation) { o.Claims[3].Required = true }, MadeRequired, "express", true},
		{"made optional", func(o *Operation) { o.Claims[0].Required = false }, MadeOptional, "amount", false},
		{"max lowered", func(o *Operation) { o.Claims[0].Max = ptr(500) }, RangeNarrowed, "amount", true},
		{"min raised", func(o *Operation) { o.Claims[0].Min = ptr(10) }, RangeNarrowed, "amount", true},
		{"max raised", func(o *Operation) { o.Claims[0].Max = ptr(5000) }, RangeWidened, "amount", false},
		{"min lowered", func(o *Operation) { o.Claims[0].Min = ptr(0) }, RangeWidened, "amount", false},
		{"max removed", func(o *Operation) { o.Claims[0].Max = nil }, RangeWidened, "amount", false},
		{"bound added", func(o *Operation) { o.Claims[4].Max = ptr(5) }, RangeNarrowed, "rate", true},
		{"max length reduced", func(o *Operation) { o.Claims[1].MaxLength = 5 }, MaxLengthReduced, "note", true},
		{"max length increased", func(o *Operation) { o.Claims[1].MaxLength = 20 }, MaxLengthIncreased, "note", false},
		{"pattern changed", func(o *Operation) { o.Claims[1].Pattern = "[a-z0-9]*" }, PatternChanged, "note", true},
		{"pattern removed", func(o *Operation) { o.Claims[1].Pattern = "" }, PatternRemoved, "note", false},
		{"enum value removed", func(o *Operation) { o.Claims[2].Enum = []string{"web"} }, EnumNarrowed, "channel", true},
		{"enum value added", func(o *Operation) { o.Claims[2].Enum = []string{"web", "mobile", "pos"} }, EnumWidened, "channel", false},
		{"enum removed", func(o *Operation) { o.Claims[2].Enum = nil }, EnumWidened, "channel", false},
		{"enum added", func(o *Operation) { o.Claims[1].Enum = []string{"a"} }, EnumNarrowed, "note", true},
		{"audience changed", func(o *Operation) { o.Audience = "b" }, AudienceChanged, "", true},
		{"lifetime changed", func(o *Operation) { o.Lifetime = 30 * time.Second }, LifetimeChanged, "", false},
		{"size reduced", func(o *Operation) { o.MaxSize = 500 }, MaxSizeReduced, "", true},
		{"size increased", func(o *Operation) { o.MaxSize = 5000 }, MaxSizeIncreased, "", false},
		{"scope added", func(o *Operation) { o.RequiredScopes = append(o.RequiredScopes, "admin") }, ScopesAdded, "", true},
		{"scope removed", func(o *Operation) { o.RequiredScopes = nil }, ScopesRemoved, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, err := NewRegistry(RegistryConfig{}, base())
			require.NoError(t, err)
			edited := base()
			tt.edit(&edited)
			edited.Version = 2
			to, err := NewRegistry(RegistryConfig{}, edited)
			require.NoError(t, err)

			rep := Compare(from, to)
			var found *Change
			for i := range rep.Changes {
				if rep.Changes[i].Kind == tt.kind && rep.Changes[i].Claim == tt.claim {
					found = &rep.Changes[i]
				}
			}
			require.NotNil(t, found, "changes: %v", rep.Changes)
			assert.Equal(t, tt.breaking, found.Breaking)
			assert.Equal(t, "pay", found.Operation)
			assert.Equal(t, tt.breaking, rep.Breaking(), "changes: %v", rep.Changes)
			assert.NotContains(t, kinds(rep), VersionNotIncreased)

			// The same edit without a version bump is breaking.
			edited.Version = 1
			to, err = NewRegistry(RegistryConfig{}, edited)
			require.NoError(t, err)
			rep = Compare(from, to)
			assert.Contains(t, kinds(rep), VersionNotIncreased)
			assert.True(t, rep.Breaking())
		})
	}
}

func kinds(r Report) []ChangeKind {
	var out []ChangeKind
	for _, c := range r.Changes {
		out = append(out, c.Kind)
	}
	return out
}

func TestCompareOperations(t *testing.T) {
	a := Operation{Name: "a", Version: 1}
	b := Operation{Name: "b", Version: 1}
	from, err := NewRegistry(RegistryConfig{}, a)
	require.NoError(t, err)
	to, err := NewRegistry(RegistryConfig{}, b)
	require.NoError(t, err)

	rep := Compare(from, to)
	require.Len(t, rep.Changes, 2)
	assert.Equal(t, Change{Kind: OperationRemoved, Operation: "a", Breaking: true}, rep.Changes[0])
	assert.Equal(t, Change{Kind: OperationAdded, Operation: "b"}, rep.Changes[1])
	assert.Len(t, rep.BreakingChanges(), 1)

	same := Compare(from, from)
	assert.Empty(t, same.Changes)
	assert.False(t, same.Breaking())

	down, err := NewRegistry(RegistryConfig{}, Operation{Name: "a", Version: 0 + 1})
	require.NoError(t, err)
	up, err := NewRegistry(RegistryConfig{}, Operation{Name: "a", Version: 3})
	require.NoError(t, err)
	assert.False(t, Compare(down, up).Breaking(), "a version bump alone is safe")
	assert.Contains(t, kinds(Compare(up, down)), VersionNotIncreased)

	short, err := NewRegistry(RegistryConfig{MaxSubjectLength: 10}, a)
	require.NoError(t, err)
	assert.Contains(t, kinds(Compare(from, short)), SubjectLimitReduced)
}

func TestChangeString(t *testing.T) {
	c := Change{Kind: RangeNarrowed, Operation: "pay", Claim: "amount", Breaking: true, Detail: "max 1000 -> 500"}
	assert.Equal(t, "BREAKING range_narrowed operation=pay claim=amount: max 1000 -> 500", c.String())
}
