package txntoken

import (
	"fmt"
	"slices"
	"strings"
)

// ChangeKind names one kind of schema change found by Compare.
type ChangeKind string

// Change kinds. The comment on each states whether Compare reports it as
// breaking: a breaking change can make a token or a request that the old
// schema accepts be rejected under the new one, or the reverse during a
// rolling deploy.
const (
	OperationAdded      ChangeKind = "operation_added"            // safe
	OperationRemoved    ChangeKind = "operation_removed"          // breaking
	ClaimAdded          ChangeKind = "claim_added"                // safe when optional, breaking when required
	ClaimRemoved        ChangeKind = "claim_removed"              // breaking
	TypeChanged         ChangeKind = "type_changed"               // breaking
	MadeRequired        ChangeKind = "made_required"              // breaking
	MadeOptional        ChangeKind = "made_optional"              // safe
	RangeNarrowed       ChangeKind = "range_narrowed"             // breaking: min raised, max lowered, or a bound added
	RangeWidened        ChangeKind = "range_widened"              // safe
	MaxLengthReduced    ChangeKind = "max_length_reduced"         // breaking
	MaxLengthIncreased  ChangeKind = "max_length_increased"       // safe
	PatternChanged      ChangeKind = "pattern_changed"            // breaking, unless the pattern was removed
	PatternRemoved      ChangeKind = "pattern_removed"            // safe
	EnumNarrowed        ChangeKind = "enum_narrowed"              // breaking: a value removed, or an enum added
	EnumWidened         ChangeKind = "enum_widened"               // safe: values added, or the enum removed
	AudienceChanged     ChangeKind = "audience_changed"           // breaking
	ScopesAdded         ChangeKind = "required_scopes_added"      // breaking: the issuer now requires more
	ScopesRemoved       ChangeKind = "required_scopes_removed"    // safe
	LifetimeChanged     ChangeKind = "lifetime_changed"           // safe
	MaxSizeReduced      ChangeKind = "max_size_reduced"           // breaking: minting may start to fail
	MaxSizeIncreased    ChangeKind = "max_size_increased"         // safe
	SubjectLimitReduced ChangeKind = "max_subject_length_reduced" // breaking
	VersionNotIncreased ChangeKind = "version_not_increased"      // breaking: an operation changed but kept its version
)

// Change is one difference between two registries.
type Change struct {
	Kind      ChangeKind
	Operation string
	// Claim is empty for operation-level changes.
	Claim    string
	Breaking bool
	// Detail describes what changed, such as "max 1000 -> 500".
	Detail string
}

func (c Change) String() string {
	var b strings.Builder
	if c.Breaking {
		b.WriteString("BREAKING ")
	} else {
		b.WriteString("safe     ")
	}
	b.WriteString(string(c.Kind))
	if c.Operation != "" {
		fmt.Fprintf(&b, " operation=%s", c.Operation)
	}
	if c.Claim != "" {
		fmt.Fprintf(&b, " claim=%s", c.Claim)
	}
	if c.Detail != "" {
		b.WriteString(": ")
		b.WriteString(c.Detail)
	}
	return b.String()
}

// Report is the result of Compare.
type Report struct {
	Changes []Change
}

// Breaking reports whether any change is breaking.
func (r Report) Breaking() bool {
	return slices.ContainsFunc(r.Changes, func(c Change) bool { return c.Breaking })
}

// BreakingChanges returns the breaking changes only.
func (r Report) BreakingChanges() []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Breaking {
			out = append(out, c)
		}
	}
	return out
}

// Compare reports the changes from registry from to registry to, ordered by
// operation and claim name, so that CI can stop schema drift before a
// deploy. Every change to an operation must come with a higher version;
// otherwise Compare adds a breaking VersionNotIncreased change.
func Compare(from, to *Registry) Report {
	var rep Report
	add := func(c Change) { rep.Changes = append(rep.Changes, c) }

	if to.maxSubjectLength < from.maxSubjectLength {
		add(Change{Kind: SubjectLimitReduced, Breaking: true,
			Detail: fmt.Sprintf("max_subject_length %d -> %d", from.maxSubjectLength, to.maxSubjectLength)})
	}
	names := append(from.Operations(), to.Operations()...)
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		o, inOld := from.ops[name]
		n, inNew := to.ops[name]
		switch {
		case !inNew:
			add(Change{Kind: OperationRemoved, Operation: name, Breaking: true})
		case !inOld:
			add(Change{Kind: OperationAdded, Operation: name})
		default:
			opChanges := compareOperation(o, n)
			rep.Changes = append(rep.Changes, opChanges...)
			switch {
			case n.Version < o.Version:
				add(Change{Kind: VersionNotIncreased, Operation: name, Breaking: true,
					Detail: fmt.Sprintf("version went down %d -> %d", o.Version, n.Version)})
			case len(opChanges) > 0 && n.Version == o.Version:
				add(Change{Kind: VersionNotIncreased, Operation: name, Breaking: true,
					Detail: fmt.Sprintf("operation changed but version stayed %d", o.Version)})
			}
		}
	}
	return rep
}

func compareOperation(o, n *Operation) []Change {
	var out []Change
	add := func(kind ChangeKind, claim string, breaking bool, format string, args ...any) {
		out = append(out, Change{Kind: kind, Operation: o.Name, Claim: claim, Breaking: breaking, Detail: fmt.Sprintf(format, args...)})
	}
	if o.Audience != n.Audience {
		add(AudienceChanged, "", true, "%q -> %q", o.Audience, n.Audience)
	}
	if o.Lifetime != n.Lifetime {
		add(LifetimeChanged, "", false, "%v -> %v", o.Lifetime, n.Lifetime)
	}
	switch {
	case n.MaxSize < o.MaxSize:
		add(MaxSizeReduced, "", true, "%d -> %d bytes", o.MaxSize, n.MaxSize)
	case n.MaxSize > o.MaxSize:
		add(MaxSizeIncreased, "", false, "%d -> %d bytes", o.MaxSize, n.MaxSize)
	}
	for _, s := range n.RequiredScopes {
		if !slices.Contains(o.RequiredScopes, s) {
			add(ScopesAdded, "", true, "scope %q now required", s)
		}
	}
	for _, s := range o.RequiredScopes {
		if !slices.Contains(n.RequiredScopes, s) {
			add(ScopesRemoved, "", false, "scope %q no longer required", s)
		}
	}

	names := make([]string, 0, len(o.Claims)+len(n.Claims))
	for _, c := range o.Claims {
		names = append(names, c.Name)
	}
	for _, c := range n.Claims {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		oc, inOld := o.claims[name]
		nc, inNew := n.claims[name]
		switch {
		case !inNew:
			add(ClaimRemoved, name, true, "")
		case !inOld:
			if nc.Required {
				add(ClaimAdded, name, true, "new required claim")
			} else {
				add(ClaimAdded, name, false, "new optional claim; deploy verifiers before issuers")
			}
		default:
			out = append(out, compareClaim(o.Name, oc, nc)...)
		}
	}
	return out
}

func compareClaim(op string, o, n *Claim) []Change {
	var out []Change
	add := func(kind ChangeKind, breaking bool, format string, args ...any) {
		out = append(out, Change{Kind: kind, Operation: op, Claim: o.Name, Breaking: breaking, Detail: fmt.Sprintf(format, args...)})
	}
	if o.Type != n.Type {
		add(TypeChanged, true, "%s -> %s", o.Type, n.Type)
		// Bounds of different types do not compare.
		return out
	}
	switch {
	case !o.Required && n.Required:
		add(MadeRequired, true, "optional -> required")
	case o.Required && !n.Required:
		add(MadeOptional, false, "required -> optional")
	}
	compareBound(add, "min", o.Min, n.Min, func(prev, next float64) bool { return next > prev })
	compareBound(add, "max", o.Max, n.Max, func(prev, next float64) bool { return next < prev })
	switch {
	case n.MaxLength < o.MaxLength:
		add(MaxLengthReduced, true, "max_length %d -> %d", o.MaxLength, n.MaxLength)
	case n.MaxLength > o.MaxLength:
		add(MaxLengthIncreased, false, "max_length %d -> %d", o.MaxLength, n.MaxLength)
	}
	switch {
	case o.Pattern == n.Pattern:
	case n.Pattern == "":
		add(PatternRemoved, false, "pattern %q removed", o.Pattern)
	default:
		// Whether one regular expression accepts a subset of another's
		// language is not decided here, so any other change counts as breaking.
		add(PatternChanged, true, "pattern %q -> %q", o.Pattern, n.Pattern)
	}
	switch {
	case len(o.Enum) == 0 && len(n.Enum) > 0:
		add(EnumNarrowed, true, "enum added")
	case len(o.Enum) > 0 && len(n.Enum) == 0:
		add(EnumWidened, false, "enum removed")
	default:
		var removed, added []string
		for _, v := range o.Enum {
			if !slices.Contains(n.Enum, v) {
				removed = append(removed, v)
			}
		}
		for _, v := range n.Enum {
			if !slices.Contains(o.Enum, v) {
				added = append(added, v)
			}
		}
		if len(removed) > 0 {
			add(EnumNarrowed, true, "values removed: %q", removed)
		}
		if len(added) > 0 {
			add(EnumWidened, false, "values added: %q", added)
		}
	}
	return out
}

// compareBound reports a change of one range bound; narrower reports whether
// moving from prev to next shrinks the accepted range.
func compareBound(add func(ChangeKind, bool, string, ...any), name string, o, n *float64, narrower func(prev, next float64) bool) {
	switch {
	case o == nil && n == nil:
	case o == nil:
		add(RangeNarrowed, true, "%s %s added", name, formatBound(*n))
	case n == nil:
		add(RangeWidened, false, "%s %s removed", name, formatBound(*o))
	case *o == *n:
	case narrower(*o, *n):
		add(RangeNarrowed, true, "%s %s -> %s", name, formatBound(*o), formatBound(*n))
	default:
		add(RangeWidened, false, "%s %s -> %s", name, formatBound(*o), formatBound(*n))
	}
}
