/**
 * The Lua scripts behind the Redis attempt counter, each one atomic step run
 * by EVALSHA. They mirror `liveState`, `charge`, `refund` and
 * `checksAllowed` in src/domain/attempt-delays.ts; the counter contract
 * suite runs the same cases against memory and Redis.
 *
 * A counter is a hash: s (window start ms), n (failures), u (delay ends, ms,
 * 0 for none), p (u before the last charge, restored by a refund). A slot's
 * checks in flight (BEGIN_CHECK, END_CHECK) are a sorted set beside it: lease
 * id → when the lease ends (ms); the set expires with its last lease. A
 * check on several slots holds the same lease id in each slot's set. Times
 * come from ARGV, not the Redis clock, so every instance and the memory
 * adapter agree on one clock. All keys of one call share a `{…}` hash tag,
 * so the multi-key scripts are Cluster-safe.
 */

/**
 * Shared by every script: the live state of counter i, the key KEYS[KO + i],
 * with policy ARGV[b+1..b+4] where b = AO + (i - 1) * 5 + 1 (ARGV[AO + 1]
 * is now); ARGV[b+5] is the slot's gates ("" or 1-based slot numbers joined
 * by commas). KO and AO are 0 unless a script that also does other work
 * puts the counters' part after its own (CREATE_CHARGED in
 * redis-operator-scripts.ts). Offsets, not copies of KEYS and ARGV, and no
 * table per counter: this runs on every device authorization, and Redis's
 * Lua time is Redis time every other command waits for (measured with INFO
 * commandstats: docs/architecture.md "Redis").
 */
export const COUNTER_LIB = `
local KO, AO = 0, 0
local function live(i, now)
  local b = AO + (i - 1) * 5 + 1
  local window = tonumber(ARGV[b+4])
  local f = redis.call('HMGET', KEYS[KO + i], 's', 'n', 'u', 'p')
  local s, n, u, p = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4])
  if s and now >= s + window and now >= u then s = nil end
  return s, n, u, p, tonumber(ARGV[b+1]), tonumber(ARGV[b+2]), tonumber(ARGV[b+3]), window
end
local function save(i, now, s, n, u, p, window)
  local key = KEYS[KO + i]
  redis.call('HSET', key, 's', s, 'n', n, 'u', u, 'p', p)
  redis.call('PEXPIRE', key, math.max(1, math.max(s + window, u) - now))
end
local function charge_live(i, now, s, n, u, p, free, basems, cap, window)
  local fresh = not s
  if fresh then s, n, u = now, 0, 0 end
  n = n + 1
  local k = n - free
  local nu = 0
  if k > 0 then nu = now + math.min(cap, basems * 2 ^ (k - 1)) end
  if not fresh and nu == u and u == p then
    -- Only the count moves: the window, the delay, and so the key's expiry, stay.
    redis.call('HSET', KEYS[KO + i], 'n', n)
  else
    save(i, now, s, n, nu, u, window)
  end
end
local function charge(i, now) charge_live(i, now, live(i, now)) end
-- ATTEMPT's step over counters 1..count: each read once; → 0 charged |
-- the retry-after ms (nothing charged). Most calls find no delay running:
-- they charge what they read, with no second look at the gates.
local function attempt(now, count)
  local st, delayed = {}, false
  for i = 1, count do
    local t = { live(i, now) }
    st[i] = t
    if t[1] and t[3] > now then delayed = true end
  end
  if delayed then
    local wait = 0
    for i = 1, count do
      local s, u = st[i][1], st[i][3]
      if s and u > now then
        local gates = ARGV[AO + (i - 1) * 5 + 6]
        local applies = gates == ''
        for g in string.gmatch(gates, '%d+') do
          local o = st[tonumber(g)]
          if o and o[1] ~= nil and o[2] > 0 then applies = true end
        end
        if applies then wait = math.max(wait, u - now) end
      end
    end
    if wait > 0 then return wait end
  end
  for i = 1, count do
    local t = st[i]
    charge_live(i, now, t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8])
  end
  return 0
end
`;

/**
 * KEYS: counters. ARGV: now ms, then per key: free, base delay ms, max delay ms, window ms, gates.
 * → {1, 0} charged | {0, retry-after ms} refused, nothing charged
 */
export const ATTEMPT = `${COUNTER_LIB}
local wait = attempt(tonumber(ARGV[1]), #KEYS)
if wait > 0 then return {0, wait} end
return {1, 0}
`;

/**
 * KEYS: counters. ARGV: as ATTEMPT. Refunds one charge per counter; a
 * counter left without failures (and without a running delay) is deleted. → 1
 */
export const FORGIVE = `${COUNTER_LIB}
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local s, n, u, p, free, basems, cap, window = live(i, now)
  if s then
    n = math.max(0, n - 1)
    if n == 0 and p <= now then
      redis.call('DEL', KEYS[i])
    else
      save(i, now, s, n, p, p, window)
    end
  end
end
return 1
`;

/**
 * KEYS: the N counters, then their N sets of checks in flight (the same
 * order). ARGV: as ATTEMPT for the N slots (now, then free, base, max,
 * window, gates per slot), the lease id, the lease ms, then lost ends as
 * pairs: a lease id and "1" (failed) or "0"; each is delivered first, on
 * each slot where its lease was still held (a failure charged there only).
 * A slot applies when its gates are "" or one of its gate slots has a
 * failure or a check in flight; only slots that apply can refuse.
 * → {1, 0} recorded on every slot | {0, retry-after ms} refused, nothing recorded
 */
export const BEGIN_CHECK = `${COUNTER_LIB}
local now = tonumber(ARGV[1])
local n = #KEYS / 2
local at = 2 + 5 * n
for i = 1, n do redis.call('ZREMRANGEBYSCORE', KEYS[n + i], '-inf', now) end
for j = at + 2, #ARGV - 1, 2 do
  for i = 1, n do
    if redis.call('ZREM', KEYS[n + i], ARGV[j]) == 1 and ARGV[j + 1] == '1' then charge(i, now) end
  end
end
local fails, untils, frees, busy, closed = {}, {}, {}, {}, {}
for i = 1, n do
  local s, f, u, p, free = live(i, now)
  if not s then f, u = 0, 0 end
  fails[i], untils[i], frees[i] = f, u, free
  busy[i] = redis.call('ZCARD', KEYS[n + i])
  closed[i] = f > 0 or busy[i] > 0
end
local wait, full = 0, 0
for i = 1, n do
  local gates = ARGV[1 + (i - 1) * 5 + 5]
  local applies = gates == ''
  for g in string.gmatch(gates, '%d+') do
    if closed[tonumber(g)] then applies = true end
  end
  if applies then
    if untils[i] > now then
      wait = math.max(wait, untils[i] - now)
    elseif busy[i] >= math.max(1, frees[i] + 1 - fails[i]) then
      local first = redis.call('ZRANGE', KEYS[n + i], 0, 0, 'WITHSCORES')
      full = math.max(full, math.min(1000, tonumber(first[2]) - now))
    end
  end
end
if wait > 0 then return {0, wait} end
if full > 0 then return {0, full} end
local ms = math.max(1, tonumber(ARGV[at + 1]))
for i = 1, n do
  redis.call('ZADD', KEYS[n + i], now + ms, ARGV[at])
  if redis.call('PTTL', KEYS[n + i]) < ms then redis.call('PEXPIRE', KEYS[n + i], ms) end
end
return {1, 0}
`;

/**
 * KEYS: as BEGIN_CHECK. ARGV: as ATTEMPT for the N slots, then the lease id
 * and "1" when the check failed (every counter charged as ATTEMPT charges),
 * else "0". → 1
 */
export const END_CHECK = `${COUNTER_LIB}
local now = tonumber(ARGV[1])
local n = #KEYS / 2
local at = 2 + 5 * n
for i = 1, n do
  redis.call('ZREM', KEYS[n + i], ARGV[at])
  if ARGV[at + 1] == '1' then charge(i, now) end
end
return 1
`;
