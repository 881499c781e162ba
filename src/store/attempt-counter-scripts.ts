/**
 * The Lua scripts behind the Redis attempt counter, each one atomic step run
 * by EVALSHA. They mirror `liveState`, `charge` and `refund` in
 * src/domain/attempt-delays.ts; the counter contract suite runs the same cases against
 * memory and Redis.
 *
 * A counter is a hash: s (window start ms), n (failures), u (delay ends, ms,
 * 0 for none), p (u before the last charge, restored by a refund). Times come from ARGV, not the Redis clock, so every instance
 * and the memory adapter agree on one clock. All keys of one call share a
 * `{…}` hash tag, so the multi-key script is Cluster-safe.
 */

/**
 * Shared by both scripts: the live state of KEYS[i] with policy
 * ARGV[base+1..base+4]; ARGV[base+5] is the slot's gates ("" or 1-based
 * slot numbers joined by commas).
 */
const LIVE = `
local function live(i, now)
  local b = 1 + (i - 1) * 5
  local free, basems, cap, window = tonumber(ARGV[b+1]), tonumber(ARGV[b+2]), tonumber(ARGV[b+3]), tonumber(ARGV[b+4])
  local f = redis.call('HMGET', KEYS[i], 's', 'n', 'u', 'p')
  local s, n, u, p = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4])
  if s and now >= s + window and now >= u then s = nil end
  return s, n, u, p, free, basems, cap, window
end
local function save(i, now, s, n, u, p, window)
  redis.call('HSET', KEYS[i], 's', s, 'n', n, 'u', u, 'p', p)
  redis.call('PEXPIRE', KEYS[i], math.max(1, math.max(s + window, u) - now))
end
`;

/**
 * KEYS: counters. ARGV: now ms, then per key: free, base delay ms, max delay ms, window ms, gates.
 * → {1, 0} charged | {0, retry-after ms} refused, nothing charged
 */
export const ATTEMPT = `${LIVE}
local now = tonumber(ARGV[1])
local wait = 0
local failed = {}
for i = 1, #KEYS do
  local s, n = live(i, now)
  failed[i] = s ~= nil and n > 0
end
for i = 1, #KEYS do
  local s, n, u = live(i, now)
  if s and u > now then
    local gates = ARGV[1 + (i - 1) * 5 + 5]
    local applies = gates == ''
    for g in string.gmatch(gates, '%d+') do
      if failed[tonumber(g)] then applies = true end
    end
    if applies then wait = math.max(wait, u - now) end
  end
end
if wait > 0 then return {0, wait} end
for i = 1, #KEYS do
  local s, n, u, p, free, basems, cap, window = live(i, now)
  if not s then s, n, u = now, 0, 0 end
  n = n + 1
  local k = n - free
  local nu = 0
  if k > 0 then nu = now + math.min(cap, basems * 2 ^ (k - 1)) end
  save(i, now, s, n, nu, u, window)
end
return {1, 0}
`;

/** KEYS: counters. ARGV: as ATTEMPT. Refunds one charge per counter. → 1 */
export const FORGIVE = `${LIVE}
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local s, n, u, p, free, basems, cap, window = live(i, now)
  if s then save(i, now, s, math.max(0, n - 1), p, p, window) end
end
return 1
`;
