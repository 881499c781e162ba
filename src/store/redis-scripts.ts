/**
 * The Lua scripts behind the Redis device store. Each is one atomic step, run
 * by EVALSHA, and EVAL after NOSCRIPT (lua-script.ts).
 *
 * They mirror `applyPoll` / `applyDecision` in src/domain/transitions.ts; the
 * store contract suite runs the same cases against both.
 *
 * Layout (see device-record-codec.ts): the record is one string at
 * `device:code:{tag}:<hash(device_code)>`, its fields joined by U+001F; the
 * index is a string at `device:user_code:{tag}:<hash(user_code)>` holding the
 * record key's hash part. Both carry the same `{tag}`, so they share a Cluster
 * hash slot; scripts that follow the index build the record key from ARGV and
 * the pointer, which stays inside that slot. A packed string, not a hash: a
 * hash with a user agent over 64 bytes leaves listpack encoding and costs
 * about three times the memory (measured, see README).
 */

/** Field positions (1-based, as in Lua); keep in step with device-record-codec.ts. */
export const LIB = `
local SEP = '\\31'
local function fields(s)
  local t, i = {}, 1
  while true do
    local j = string.find(s, SEP, i, true)
    if not j then t[#t + 1] = string.sub(s, i); return t end
    t[#t + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end
local DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local function b36(n)
  if n == 0 then return '0' end
  local out = ''
  while n > 0 do
    local d = n % 36
    out = string.sub(DIGITS, d + 1, d + 1) .. out
    n = (n - d) / 36
  end
  return out
end
local ST, INTERVAL, LAST, EXPIRES, CLIENT, SUBJECT, GRANTED, CREATED, SCOPES, RESOURCES = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
local IP, UA = 11, 12
local NONCE, CONSUMED_AT, ATTEMPT_AT, CONFIRMED, NARROW, FIELDS = 13, 14, 15, 16, 17, 17
-- The approver's address: written only by a decision that names one (a pending record has 17).
local APPROVER = 18
-- A record written before the issuance fields existed has 12: give it the rest, empty.
local function pad(f)
  for i = #f + 1, FIELDS do f[i] = '' end
  return f
end
local function granted_of(f)
  if f[GRANTED] == '-' then return f[SCOPES] end
  return f[GRANTED]
end
`;

/** KEYS: user index, record. ARGV: expiresAt ms, record hash part, packed record → 1 | 0 (user code taken) */
export const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[1])
return 1
`;

/**
 * KEYS: record. ARGV: clientId, now ms, minGapMs, stepSeconds, requested
 * resources (space-joined), retry window ms, retry lease ms.
 * → {'unknown'} | {'wrong_client'} | {'expired'} | {'invalid_target'} | {'denied'} | {'consumed'}
 *   | {'pending', interval} | {'slow_down', interval}
 *   | {'issued', subject, grantedScopes, resources, nonce, consumed at (b36), ip, user agent, approver}
 *   | {'reissued', subject, grantedScopes, resources, nonce, consumed at (b36), ip, user agent, approver}
 * A consumed record lives until max(expiry, consumption + window), PXAT.
 */
export const POLL = `${LIB}
local s = redis.call('GET', KEYS[1])
if not s then return {'unknown'} end
local f = pad(fields(s))
if f[CLIENT] ~= ARGV[1] then return {'wrong_client'} end
local now = tonumber(ARGV[2])
local st = f[ST]
if st == 'C' and f[CONSUMED_AT] ~= '' and f[CONFIRMED] ~= '1' and tonumber(ARGV[6]) > 0 then
  local at = tonumber(f[CONSUMED_AT], 36)
  local attempt = tonumber(f[ATTEMPT_AT], 36) or at
  if now - at <= tonumber(ARGV[6]) and now - attempt >= tonumber(ARGV[7]) and f[NARROW] == ARGV[5] then
    f[ATTEMPT_AT] = b36(now)
    redis.call('SET', KEYS[1], table.concat(f, SEP), 'KEEPTTL')
    return {'reissued', f[SUBJECT], granted_of(f), f[RESOURCES], f[NONCE], f[CONSUMED_AT],
      f[IP], f[UA], f[APPROVER] or ''}
  end
end
if tonumber(f[EXPIRES], 36) <= now then return {'expired'} end
if ARGV[5] ~= '' then
  local bound = ' ' .. f[RESOURCES] .. ' '
  for r in string.gmatch(ARGV[5], '%S+') do
    if not string.find(bound, ' ' .. r .. ' ', 1, true) then return {'invalid_target'} end
  end
end
if st == 'A' then
  local at = b36(now)
  f[ST] = 'C'
  f[LAST] = at
  f[CONSUMED_AT] = at
  f[ATTEMPT_AT] = at
  f[CONFIRMED] = '0'
  f[NARROW] = ARGV[5]
  local keep = math.max(tonumber(f[EXPIRES], 36), now + tonumber(ARGV[6]))
  redis.call('SET', KEYS[1], table.concat(f, SEP), 'PXAT', string.format('%d', keep))
  return {'issued', f[SUBJECT], granted_of(f), f[RESOURCES], f[NONCE], at, f[IP], f[UA], f[APPROVER] or ''}
elseif st == 'D' then return {'denied'}
elseif st == 'C' then return {'consumed'}
end
local interval = tonumber(f[INTERVAL])
local last = tonumber(f[LAST], 36)
local reply = 'pending'
if last > 0 and now - last < tonumber(ARGV[3]) then
  interval = interval + tonumber(ARGV[4])
  f[INTERVAL] = tostring(interval)
  reply = 'slow_down'
end
f[LAST] = b36(now)
redis.call('SET', KEYS[1], table.concat(f, SEP), 'KEEPTTL')
return {reply, interval}
`;

/** KEYS: record. → 1 (released now) | 0 (nothing to release). Mirrors `applyRelease`. */
export const RELEASE = `${LIB}
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
local f = pad(fields(s))
if f[ST] ~= 'C' or f[CONSUMED_AT] == '' or f[CONFIRMED] == '1' or f[ATTEMPT_AT] == '0' then return 0 end
f[ATTEMPT_AT] = '0'
redis.call('SET', KEYS[1], table.concat(f, SEP), 'KEEPTTL')
return 1
`;

/** KEYS: record. → 1 (confirmed now) | 0 (nothing to confirm). Mirrors `applyConfirm`. */
export const CONFIRM = `${LIB}
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
local f = pad(fields(s))
if f[ST] ~= 'C' or f[CONSUMED_AT] == '' or f[CONFIRMED] == '1' then return 0 end
f[CONFIRMED] = '1'
redis.call('SET', KEYS[1], table.concat(f, SEP), 'KEEPTTL')
return 1
`;

/** KEYS: user index. ARGV: record key prefix (through the tag), now ms. → the packed record, or false */
export const FIND = `${LIB}
local ptr = redis.call('GET', KEYS[1])
if not ptr then return false end
local s = redis.call('GET', ARGV[1] .. ptr)
if not s then return false end
if tonumber(fields(s)[EXPIRES], 36) <= tonumber(ARGV[2]) then return false end
return s
`;

/**
 * KEYS: user index. ARGV: record key prefix, now ms, new status (A|D), subject, granted scopes,
 * approver address ('' = unknown: not written).
 * → {'not_found'} | {'already_decided', status, packed record} | {'decided', packed record after the change}
 */
export const DECIDE = `${LIB}
local ptr = redis.call('GET', KEYS[1])
if not ptr then return {'not_found'} end
local rec = ARGV[1] .. ptr
local s = redis.call('GET', rec)
if not s then return {'not_found'} end
local f = fields(s)
if tonumber(f[EXPIRES], 36) <= tonumber(ARGV[2]) then return {'not_found'} end
if f[ST] ~= 'P' then return {'already_decided', f[ST], s} end
f[ST] = ARGV[3]
f[SUBJECT] = ARGV[4]
f[GRANTED] = ARGV[5]
if ARGV[6] ~= '' then
  pad(f)
  f[APPROVER] = ARGV[6]
end
local out = table.concat(f, SEP)
redis.call('SET', rec, out, 'KEEPTTL')
return {'decided', out}
`;
