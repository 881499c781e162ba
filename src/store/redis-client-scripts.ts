/**
 * The Lua scripts behind the Redis client store. Each is one atomic step, run
 * by EVALSHA; they mirror src/store/memory-client-store.ts and the client
 * store contract suite runs the same cases against both.
 *
 * A space (registered clients, cached documents) is one hash tag, so its keys
 * share a Redis Cluster slot: `client:{space}:c:<id>` a hash with r (JSON),
 * a active "1"/"0", i idle TTL ms, e expiry ms (0: none), and PEXPIREAT e;
 * `client:{space}:ids` a sorted set of every id (score 0, for paging by id);
 * `client:{space}:exp` a sorted set of the expiring ids by expiry (for the cap
 * and for pruning ids whose records Redis has dropped).
 */

/** Drops index entries of clients expired by `now` (bounded work per call). */
const PRUNE = `
local function prune(ids, exp, rec_prefix, now)
  local dead = redis.call('ZRANGEBYSCORE', exp, '-inf', now, 'LIMIT', 0, 500)
  for _, id in ipairs(dead) do
    redis.call('ZREM', ids, id)
    redis.call('ZREM', exp, id)
    redis.call('DEL', rec_prefix .. id)
  end
end
`;

/**
 * KEYS: record, ids, exp. ARGV: id, mode (create|replace|update), json, active,
 * idle ms, expiry ms, now ms, max expiring, record-key prefix.
 * → 'stored' | 'exists' | 'missing' | 'full'
 */
export const PUT_CLIENT = `${PRUNE}
local now = tonumber(ARGV[7])
prune(KEYS[2], KEYS[3], ARGV[9], now)
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[2] == 'create' and exists then return 'exists' end
if ARGV[2] ~= 'create' and not exists then return 'missing' end
local active = ARGV[4]
if ARGV[2] == 'update' then active = redis.call('HGET', KEYS[1], 'a') end
local expiry = tonumber(ARGV[6])
local cap = tonumber(ARGV[8])
if expiry > 0 and not exists and cap > 0 and redis.call('ZCARD', KEYS[3]) >= cap then
  return 'full'
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'r', ARGV[3], 'a', active, 'i', ARGV[5], 'e', ARGV[6])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
if expiry > 0 then
  redis.call('PEXPIREAT', KEYS[1], ARGV[6])
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return 'stored'
`;

/**
 * KEYS: record, ids, exp. ARGV: id, now ms. → {r, a, i, e} or nil. Slides a
 * sliding expiry once a hundredth of the idle life has passed (slidExpiry).
 */
export const GET_CLIENT = `
local v = redis.call('HMGET', KEYS[1], 'r', 'a', 'i', 'e')
if not v[1] then return false end
local now = tonumber(ARGV[2])
local idle, e = tonumber(v[3]), tonumber(v[4])
if e > 0 and e <= now then return false end
if idle > 0 then
  local nxt = now + idle
  if nxt - e >= math.max(1, math.floor(idle / 100)) then
    local s = string.format('%.0f', nxt)
    redis.call('HSET', KEYS[1], 'e', s)
    redis.call('PEXPIREAT', KEYS[1], s)
    redis.call('ZADD', KEYS[3], 'XX', s, ARGV[1])
    v[4] = s
  end
end
return v
`;

/**
 * KEYS: ids, exp. ARGV: record-key prefix, after ('' from the start), limit, now ms.
 * → {more (0|1), last id of the page, id, r, a, i, e, id, r, a, i, e, …}
 */
export const LIST_CLIENTS = `${PRUNE}
local now = tonumber(ARGV[4])
prune(KEYS[1], KEYS[2], ARGV[1], now)
local limit = tonumber(ARGV[3])
local start = ARGV[2] == '' and '-' or ('(' .. ARGV[2])
local ids = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0, limit + 1)
local out = {#ids > limit and 1 or 0, ids[math.min(#ids, limit)] or ''}
for i = 1, math.min(#ids, limit) do
  local v = redis.call('HMGET', ARGV[1] .. ids[i], 'r', 'a', 'i', 'e')
  if v[1] then
    out[#out + 1] = ids[i]
    for j = 1, 4 do out[#out + 1] = v[j] end
  end
end
return out
`;

/** KEYS: record, ids, exp. ARGV: id. → 1 if a client was deleted, else 0 */
export const DELETE_CLIENT = `
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return n
`;

/** KEYS: record. ARGV: active ("1"|"0"). → 1 if the client exists, else 0 */
export const SET_ACTIVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'a', ARGV[1])
return 1
`;
