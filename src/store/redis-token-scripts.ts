/**
 * The Lua scripts behind the Redis token store. Each is one atomic step, run
 * by EVALSHA, and EVAL after NOSCRIPT (lua-script.ts). They
 * mirror the pure transitions in src/domain/refresh-family.ts; the token
 * store contract suite runs the same cases against both.
 *
 * Family layout: a hash at `token:family:{fid}` with c client, u subject,
 * s scopes, r resources, t created, ae absolute expiry, it current token
 * issued, ie current token idle expiry, cur current hash, n rotations,
 * j live access tokens ("jti exp jti exp …"), o the grant's origin (requester
 * address, user agent, approver address, joined by U+001F; absent in families
 * written before it), x:<hash> → rotation number and g:<n> → hash for each
 * remembered rotated-out token. Its TTL is `ie`.
 * A family created for a device code's consumption also has
 * `token:family:{fid}:once` until the retry window of that consumption ends:
 * its id is never created twice.
 * Revoked access tokens: `token:revoked:{tag}:<jti>` holding, and PXAT, its expiry;
 * a family's jtis carry the family id as tag, so revoking a family touches
 * one slot. Scripts build keys only from KEYS and ARGV prefixes within it.
 *
 * The per-subject index `token:subject:{subject}` is a sorted set of family
 * ids scored by creation time, in the subject's own slot, so it is written by
 * its own script (INDEX_FAMILY) after the family's: a secondary structure.
 * Entries whose family has expired or was revoked are skipped and pruned on
 * read; only the newest `maxPerSubject` are kept; its TTL is pushed to the
 * latest absolute expiry of a family written into it.
 */

/** Shared by ROTATE and REVOKE: the family's access tokens that are still live, as {jti, exp, …}. */
export const LIVE_TOKENS = `
local function live_tokens(list, now)
  local words, out = {}, {}
  for w in string.gmatch(list or '', '%S+') do words[#words + 1] = w end
  for i = 1, #words - 1, 2 do
    if tonumber(words[i + 1]) > now then
      out[#out + 1] = words[i]
      out[#out + 1] = words[i + 1]
    end
  end
  return out
end
local function revoke_all(family, live, prefix)
  for i = 1, #live - 1, 2 do redis.call('SET', prefix .. live[i], live[i + 1], 'PXAT', live[i + 1]) end
  redis.call('DEL', family)
end
`;

/**
 * KEYS: family, its once marker. ARGV: idle expiry ms, once-until ms (0: no
 * marker), field/value pairs… → 1 (created) | 0 (created before: nothing written)
 */
export const CREATE_FAMILY = `
if ARGV[2] ~= '0' then
  if not redis.call('SET', KEYS[2], '1', 'NX', 'PXAT', ARGV[2]) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`;

/**
 * KEYS: family. ARGV: presented hash, next hash, client id, now ms, jti,
 * jti expiry ms, idle TTL ms, keep rotated, revoked-key prefix (through the tag).
 * → {'unknown'} | {'expired'} | {'wrong_client'} | {'reused', jti, exp, …}
 *   | {'rotated', subject, scopes, resources, created, absolute expiry, issued, idle expiry, origin}
 */
export const ROTATE = `${LIVE_TOKENS}
local f = redis.call('HMGET', KEYS[1], 'c', 'cur', 'ie', 'ae', 'j', 'n')
if not f[1] then return {'unknown'} end
local now = tonumber(ARGV[4])
if tonumber(f[3]) <= now or tonumber(f[4]) <= now then return {'expired'} end
if f[1] ~= ARGV[3] then return {'wrong_client'} end
local live = live_tokens(f[5], now)
if f[2] ~= ARGV[1] then
  if redis.call('HEXISTS', KEYS[1], 'x:' .. ARGV[1]) == 0 then return {'unknown'} end
  revoke_all(KEYS[1], live, ARGV[9])
  table.insert(live, 1, 'reused')
  return live
end
live[#live + 1] = ARGV[5]
live[#live + 1] = ARGV[6]
local n = tonumber(f[6] or '0') + 1
local ie = math.min(now + tonumber(ARGV[7]), tonumber(f[4]))
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'it', ARGV[4], 'ie', string.format('%d', ie),
  'j', table.concat(live, ' '), 'n', n, 'x:' .. ARGV[1], n, 'g:' .. n, ARGV[1])
local drop = n - tonumber(ARGV[8])
if drop >= 1 then
  local old = redis.call('HGET', KEYS[1], 'g:' .. drop)
  if old then redis.call('HDEL', KEYS[1], 'x:' .. old, 'g:' .. drop) end
end
redis.call('PEXPIREAT', KEYS[1], string.format('%d', ie))
local g = redis.call('HMGET', KEYS[1], 'u', 's', 'r', 't', 'ae', 'o')
return {'rotated', g[1], g[2], g[3], g[4], g[5], ARGV[4], string.format('%d', ie), g[6] or ''}
`;

/**
 * KEYS: family. ARGV: presented hash, client id ('' = any), now ms, revoked-key prefix.
 * → {'not_found'} | {'wrong_client'} | {'revoked', jti, exp, …}
 */
export const REVOKE_FAMILY = `${LIVE_TOKENS}
local f = redis.call('HMGET', KEYS[1], 'c', 'cur', 'ie', 'ae', 'j')
if not f[1] then return {'not_found'} end
local now = tonumber(ARGV[3])
if tonumber(f[3]) <= now or tonumber(f[4]) <= now then return {'not_found'} end
if f[2] ~= ARGV[1] and redis.call('HEXISTS', KEYS[1], 'x:' .. ARGV[1]) == 0 then
  return {'not_found'}
end
if ARGV[2] ~= '' and f[1] ~= ARGV[2] then return {'wrong_client'} end
local live = live_tokens(f[5], now)
revoke_all(KEYS[1], live, ARGV[4])
table.insert(live, 1, 'revoked')
return live
`;

/**
 * KEYS: family. ARGV: presented hash, now ms.
 * → {} | {client, subject, scopes, resources, created, absolute expiry, issued, idle expiry, origin}
 */
export const INSPECT = `
local f = redis.call('HMGET', KEYS[1], 'cur', 'ie', 'ae', 'c', 'u', 's', 'r', 't', 'it', 'o')
if not f[1] or f[1] ~= ARGV[1] then return {} end
local now = tonumber(ARGV[2])
if tonumber(f[2]) <= now or tonumber(f[3]) <= now then return {} end
return {f[4], f[5], f[6], f[7], f[8], f[3], f[9], f[2], f[10] or ''}
`;

/**
 * KEYS: the subject's index. ARGV: family id, created ms, absolute expiry ms,
 * max entries. Adds the family, drops the oldest past the bound and keeps the
 * key until the last family in it could still be alive → number of entries.
 */
export const INDEX_FAMILY = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local max = tonumber(ARGV[4])
local n = redis.call('ZCARD', KEYS[1])
if n > max then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1) end
local at = tonumber(ARGV[3])
local cur = redis.call('PEXPIRETIME', KEYS[1])
if cur < at then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return math.min(n, max)
`;

/**
 * KEYS: family. ARGV: subject, now ms, revoked-key prefix.
 * → {'not_found'} | {'revoked', client, jti, exp, …} (the owner's Disconnect)
 */
export const REVOKE_OWNED = `${LIVE_TOKENS}
local f = redis.call('HMGET', KEYS[1], 'u', 'ie', 'ae', 'j', 'c')
if not f[1] or f[1] ~= ARGV[1] then return {'not_found'} end
local now = tonumber(ARGV[2])
if tonumber(f[2]) <= now or tonumber(f[3]) <= now then return {'not_found'} end
local live = live_tokens(f[4], now)
revoke_all(KEYS[1], live, ARGV[3])
table.insert(live, 1, f[5] or '')
table.insert(live, 1, 'revoked')
return live
`;
