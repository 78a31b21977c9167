package txntoken

// Layout selects where a token carries the operation and its context claims.
type Layout int

const (
	// LayoutFlat puts the operation in "txn_tag" and the context claims at
	// the top level of the payload, next to "sub", "iss", "aud", "iat",
	// "exp" and "jti". It is the default and the smallest.
	LayoutFlat Layout = iota
	// LayoutIETF follows draft-ietf-oauth-transaction-tokens-10: the
	// payload has "txn", "sub", "aud" (the trust domain), "scope" (the
	// operation), "req_wl", "iat", "exp", optional "iss", the context
	// claims in "tctx" and the request context in "rctx". Services receive
	// the token in the Txn-Token header.
	LayoutIETF
)

func (l Layout) String() string {
	switch l {
	case LayoutFlat:
		return "flat"
	case LayoutIETF:
		return "ietf"
	}
	return "invalid"
}

// Names fixed by draft-ietf-oauth-transaction-tokens-10 and RFC 8693.
const (
	// HeaderName is the HTTP header that carries a token in the IETF layout.
	HeaderName = "Txn-Token"
	// JWTType is the "typ" header of a transaction token in either
	// layout. The jwtutil.Verifier of a txntoken Verifier must set it as
	// jwtutil.Config.Type.
	JWTType = "txntoken+jwt"
	// TokenType is the RFC 8693 token type identifier of a transaction token.
	TokenType = "urn:ietf:params:oauth:token-type:txn_token"
	// GrantTypeTokenExchange is the RFC 8693 grant type.
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	// AccessTokenType is the RFC 8693 token type of an OAuth access token,
	// the subject_token type the exchange handler accepts.
	AccessTokenType = "urn:ietf:params:oauth:token-type:access_token"
)

// Payload claim names.
const (
	claimSub     = "sub"
	claimTxnTag  = "txn_tag"
	claimIss     = "iss"
	claimAud     = "aud"
	claimIat     = "iat"
	claimExp     = "exp"
	claimNbf     = "nbf"
	claimJti     = "jti"
	claimTxn     = "txn"
	claimScope   = "scope"
	claimReqWL   = "req_wl"
	claimTctx    = "tctx"
	claimRctx    = "rctx"
	idLength     = 22 // base64url of 16 random bytes
	maxTimeWidth = 11 // digits of a NumericDate until the year 5138
)

// Bounds on what an issuer writes besides the context claims.
const (
	// MaxRequesterLength bounds "req_wl", the requesting workload, in bytes.
	MaxRequesterLength = 255
	// MaxRequestContextSize bounds the encoded "rctx" object, in bytes.
	MaxRequestContextSize = 512
)
