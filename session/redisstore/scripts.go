package redisstore

import "github.com/redis/go-redis/v9"

// Record hash fields. Times are Unix milliseconds and durations are
// milliseconds, so that the scripts can compare them as Lua numbers (exact
// up to 2^53, which Unix milliseconds stay below for the next 280,000 years).
//
//	sub      subject; the scripts build the subject's index key from it
//	data     JSON of the fields the scripts never read (see recordData)
//	ls       LastSeenAt
//	idle     IdleTimeout, 0 for none
//	exp      ExpiresAt
//	dl       deadline: the earlier of exp and ls+idle
//	revoked  "1" in a tombstone, which has no other field
//
// Each script receives the store's clock as ARGV[1] ("now") and returns a
// status: "ok", or one of the statusX values below.
const (
	statusOK       = "ok"
	statusNotFound = "notfound"
	statusExpired  = "expired"
	statusRevoked  = "revoked"
	statusExists   = "exists"
)

// luaHelpers is put in front of every script.
//
// NOTE: Touch, Rotate, Delete and DeleteSubject build key names inside the
// script (the subject's index, and records listed in an index) instead of
// receiving them in KEYS. Redis Cluster runs such scripts only when every key
// hashes to the slot of the declared keys, which is why the key prefix must
// contain a hash tag on a cluster.
const luaHelpers = `
local function int(n) return string.format('%d', n) end

local function state(key, now)
  local f = redis.call('HMGET', key, 'revoked', 'dl')
  if f[1] then return 'revoked' end
  if not f[2] then return 'notfound' end
  if tonumber(f[2]) <= now then return 'expired' end
  return 'live'
end

local function deadline(ls, idle, exp)
  if idle > 0 and ls + idle < exp then return ls + idle end
  return exp
end

-- tombstone replaces a record by a bare revoked marker that expires when
-- the record would have: until then the token reports "revoked".
local function tombstone(key)
  local ttl = redis.call('PTTL', key)
  redis.call('DEL', key)
  if ttl > 0 then
    redis.call('HSET', key, 'revoked', '1')
    redis.call('PEXPIRE', key, ttl)
  end
end

-- fixindex drops members past their deadline and lets the index expire
-- with its latest member.
local function fixindex(idx, now)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', int(now))
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if top[2] then
    redis.call('PEXPIRE', idx, int(math.max(1, tonumber(top[2]) - now)))
  end
end
`

// createScript: KEYS record, index. ARGV now, member, sub, data, ls, idle,
// exp, dl.
var createScript = redis.NewScript(luaHelpers + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
local now, dl = tonumber(ARGV[1]), tonumber(ARGV[8])
-- A session already past its deadline is never live, so it is not stored.
if dl <= now then return 'ok' end
redis.call('HSET', KEYS[1], 'sub', ARGV[3], 'data', ARGV[4], 'ls', ARGV[5],
  'idle', ARGV[6], 'exp', ARGV[7], 'dl', ARGV[8])
redis.call('PEXPIRE', KEYS[1], int(dl - now))
redis.call('ZADD', KEYS[2], ARGV[8], ARGV[2])
fixindex(KEYS[2], now)
return 'ok'
`)

// touchScript: KEYS record. ARGV now, at, index prefix, member.
var touchScript = redis.NewScript(luaHelpers + `
local now, at = tonumber(ARGV[1]), tonumber(ARGV[2])
local st = state(KEYS[1], now)
if st ~= 'live' then return st end
local f = redis.call('HMGET', KEYS[1], 'ls', 'idle', 'exp', 'sub')
if at <= tonumber(f[1]) then return 'ok' end
local dl = deadline(at, tonumber(f[2]), tonumber(f[3]))
redis.call('HSET', KEYS[1], 'ls', int(at), 'dl', int(dl))
redis.call('PEXPIRE', KEYS[1], int(dl - now))
local idx = ARGV[3] .. f[4]
redis.call('ZADD', idx, int(dl), ARGV[4])
fixindex(idx, now)
return 'ok'
`)

// rotateScript: KEYS old record, new record. ARGV now, at, index prefix,
// old member, new member. Returns {status} or {"ok", sub, data, ls, idle, exp}.
var rotateScript = redis.NewScript(luaHelpers + `
local now, at = tonumber(ARGV[1]), tonumber(ARGV[2])
local st = state(KEYS[1], now)
if st ~= 'live' then return {st} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'exists'} end
local f = redis.call('HMGET', KEYS[1], 'sub', 'data', 'ls', 'idle', 'exp')
local ls = math.max(tonumber(f[3]), at)
local dl = deadline(ls, tonumber(f[4]), tonumber(f[5]))
redis.call('HSET', KEYS[2], 'sub', f[1], 'data', f[2], 'ls', int(ls),
  'idle', f[4], 'exp', f[5], 'dl', int(dl))
redis.call('PEXPIRE', KEYS[2], int(dl - now))
tombstone(KEYS[1])
local idx = ARGV[3] .. f[1]
redis.call('ZREM', idx, ARGV[4])
redis.call('ZADD', idx, int(dl), ARGV[5])
fixindex(idx, now)
return {'ok', f[1], f[2], int(ls), f[4], f[5]}
`)

// deleteScript: KEYS record. ARGV now, index prefix, member.
var deleteScript = redis.NewScript(luaHelpers + `
local now = tonumber(ARGV[1])
local st = state(KEYS[1], now)
if st ~= 'live' then return st end
local sub = redis.call('HGET', KEYS[1], 'sub')
tombstone(KEYS[1])
local idx = ARGV[2] .. sub
redis.call('ZREM', idx, ARGV[3])
fixindex(idx, now)
return 'ok'
`)

// deleteSubjectScript: KEYS index. ARGV now, record prefix. Returns the
// number of live sessions revoked.
//
// NOTE: the script runs in time linear in the subject's sessions and blocks
// Redis meanwhile; a subject with very many sessions makes it slow.
var deleteSubjectScript = redis.NewScript(luaHelpers + `
local now = tonumber(ARGV[1])
local n = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[2] .. member
  if state(key, now) == 'live' then
    tombstone(key)
    n = n + 1
  end
end
redis.call('DEL', KEYS[1])
return n
`)
