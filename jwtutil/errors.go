package jwtutil

import (
	"errors"
	"fmt"
)

// Errors returned by [Verifier.Verify]. Each error it returns satisfies
// errors.Is for exactly one of them. Branch with errors.Is rather than on the
// message text, which may add detail.
var (
	// ErrMalformed reports a token that is not a well-formed compact JWS
	// carrying a JSON claims set. Examples are a wrong segment count,
	// invalid base64url, invalid JSON or JSON with duplicate member names,
	// a registered claim of the wrong type, a header parameter this package
	// does not implement ("crit", "b64"), or a token longer than
	// Config.MaxTokenSize.
	ErrMalformed = errors.New("jwtutil: malformed token")
	// ErrSignature reports a signature that does not verify with any key
	// the key source returned for the token.
	ErrSignature = errors.New("jwtutil: invalid signature")
	// ErrAlgorithm reports an "alg" that is unknown, "none", outside
	// Config.Algorithms, or not usable with the key the token names (for
	// example HS256 with an RSA key).
	ErrAlgorithm = errors.New("jwtutil: algorithm not allowed")
	// ErrUnknownKey reports that the key source has no key for the token's
	// "kid".
	ErrUnknownKey = errors.New("jwtutil: unknown signing key")
	// ErrKeysUnavailable reports that the key source failed for a reason
	// other than an unknown key ID, such as an unreachable JWKS endpoint.
	// It is the server's fault, not the token's, so middleware responds 503.
	ErrKeysUnavailable = errors.New("jwtutil: verification keys unavailable")
	// ErrExpired reports a token whose "exp" lies in the past by more than
	// the leeway.
	ErrExpired = errors.New("jwtutil: token expired")
	// ErrNotYetValid reports a token whose "nbf" or "iat" lies in the
	// future by more than the leeway.
	ErrNotYetValid = errors.New("jwtutil: token not yet valid")
	// ErrIssuer reports a missing "iss" or one that differs from
	// Config.Issuer.
	ErrIssuer = errors.New("jwtutil: issuer not accepted")
	// ErrAudience reports a missing "aud" or one that names none of
	// Config.Audience.
	ErrAudience = errors.New("jwtutil: audience not accepted")
	// ErrType reports a "typ" header that differs from the expected type.
	ErrType = errors.New("jwtutil: token type not accepted")
	// ErrMissingClaim reports that "exp" or a claim in Config.RequiredClaims
	// is absent. [Claims.Get] also returns it for an absent claim.
	ErrMissingClaim = errors.New("jwtutil: required claim missing")
)

// Preallocated errors for the rejections that must not allocate, so that
// garbage input costs the same whatever its length.
var (
	errTooLarge     = fmt.Errorf("%w: token longer than the maximum size", ErrMalformed)
	errSegments     = fmt.Errorf("%w: token must have exactly three dot-separated segments", ErrMalformed)
	errBase64       = fmt.Errorf("%w: segment is not unpadded base64url", ErrMalformed)
	errHeaderJSON   = fmt.Errorf("%w: header is not a valid JSON object", ErrMalformed)
	errClaimsJSON   = fmt.Errorf("%w: claims are not a valid JSON object", ErrMalformed)
	errDuplicate    = fmt.Errorf("%w: duplicate JSON member name", ErrMalformed)
	errCrit         = fmt.Errorf("%w: header has a \"crit\" parameter, and no extension is supported", ErrMalformed)
	errB64          = fmt.Errorf("%w: header has a \"b64\" parameter, and unencoded payloads are not supported", ErrMalformed)
	errNoAlg        = fmt.Errorf("%w: header has no \"alg\"", ErrMalformed)
	errKIDTooLong   = fmt.Errorf("%w: \"kid\" longer than %d bytes", ErrMalformed, maxKIDLength)
	errUnknownAlg   = fmt.Errorf("%w: unknown or unsupported \"alg\"", ErrAlgorithm)
	errAlgDisabled  = fmt.Errorf("%w: \"alg\" not in Config.Algorithms", ErrAlgorithm)
	errNoKeyForAlg  = fmt.Errorf("%w: no key for this \"kid\" can be used with this \"alg\"", ErrAlgorithm)
	errMissingExp   = fmt.Errorf("%w: \"exp\"", ErrMissingClaim)
	errExpired      = ErrExpired
	errNotYetValid  = fmt.Errorf("%w: \"nbf\" is in the future", ErrNotYetValid)
	errIssuedFuture = fmt.Errorf("%w: \"iat\" is in the future", ErrNotYetValid)
)
