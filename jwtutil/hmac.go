package jwtutil

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"sync"
)

// maxPooledSecrets bounds how many HMAC secrets keep a pool of keyed hash
// states, so a key source that returns fresh secrets cannot grow memory.
const maxPooledSecrets = 32

// hmacPools keeps keyed HMAC states per secret. Creating an HMAC state
// costs more than hashing a token, so reusing them is most of what makes
// HS256 verification cheap. The maps copy each secret as their key; the key
// source holds the same secret anyway.
type hmacPools struct {
	mu    sync.RWMutex
	pools [3]map[string]*sync.Pool // by hash: SHA-256, SHA-384, SHA-512
}

func (p *hmacPools) verify(alg algorithm, secret, signingInput, sig []byte, sum *[64]byte) bool {
	idx := int(alg - algHS256)
	size := alg.hash().Size()
	if len(sig) != size {
		return false
	}
	pool := p.pool(idx, secret)
	var mac hash.Hash
	if pool != nil {
		mac = pool.Get().(hash.Hash)
	} else {
		mac = newHMAC(idx, secret)
	}
	mac.Write(signingInput)
	expected := mac.Sum(sum[:0])
	mac.Reset()
	if pool != nil {
		pool.Put(mac)
	}
	return hmac.Equal(expected, sig)
}

func (p *hmacPools) pool(idx int, secret []byte) *sync.Pool {
	p.mu.RLock()
	pool := p.pools[idx][string(secret)]
	p.mu.RUnlock()
	if pool != nil {
		return pool
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pool = p.pools[idx][string(secret)]; pool != nil {
		return pool
	}
	if p.pools[idx] == nil {
		p.pools[idx] = make(map[string]*sync.Pool)
	}
	if len(p.pools[idx]) >= maxPooledSecrets {
		return nil
	}
	key := string(secret)
	pool = &sync.Pool{New: func() any { return newHMAC(idx, []byte(key)) }}
	p.pools[idx][key] = pool
	return pool
}

func newHMAC(idx int, secret []byte) hash.Hash {
	switch idx {
	case 0:
		return hmac.New(sha256.New, secret)
	case 1:
		return hmac.New(sha512.New384, secret)
	default:
		return hmac.New(sha512.New, secret)
	}
}
