/**
 * The Lua scripts behind the Redis authorization code store, each one atomic
 * step on one key (so one hash slot on a Cluster). They mirror
 * `applyRedemption`, `applyAttach` and `applyCodeRelease` in
 * src/domain/authorization-code.ts, check for check; the contract suite runs
 * the same cases against both.
 *
 * Layout: a hash at `authorization_code:<handle>` with short field names
 * c client, r redirect_uri ("" if omitted), h challenge, s scopes, x resources
 * (space-joined), u subject, t created, e expires (ms), st status (I issued,
 * R redeemed), i issued tokens, p replayed (0/1), n issuance nonce, ap the
 * approver's address (only when known; a record written before it was kept
 * has none and redeems as one without it); once
 * redeemed (docs/failure.md "Exactly once across faults"): ca redeemed at,
 * a latest attempt (ms, 0 once released), nt the resources named
 * (space-joined), cf confirmed (0/1). Its TTL ends at `e`.
 */

/** KEYS: code. ARGV: expiresAt ms, then field/value pairs → 1 | 0 (taken). */
export const CREATE_CODE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`;

/**
 * KEYS: code. ARGV: clientId, redirectUri, challenge, now ms, retainUntil ms,
 * resources (space-joined), retry window ms, retry lease ms.
 * → {'unknown'} | {'wrong_client'} | {'replayed', issued, nonce, redeemed at} | {'expired'} | {'redirect_mismatch'}
 *   | {'verifier_mismatch'} | {'invalid_target'}
 *   | {'redeemed' | 'reissued', subject, scopes, resources, nonce, redeemed at, approver ('' if none)}
 */
export const REDEEM_CODE = `
local f = redis.call('HMGET', KEYS[1], 'c', 'r', 'h', 's', 'x', 'u', 'e', 'st', 'i',
  'p', 'n', 'ca', 'a', 'nt', 'cf', 'ap')
if not f[1] then return {'unknown'} end
if f[1] ~= ARGV[1] then return {'wrong_client'} end
local now = tonumber(ARGV[4])
if f[8] == 'R' then
  local window = tonumber(ARGV[7])
  if window > 0 and f[15] == '0' and f[10] ~= '1' and f[12]
    and now - tonumber(f[12]) <= window and now - tonumber(f[13]) >= tonumber(ARGV[8])
    and f[2] == ARGV[2] and f[3] == ARGV[3] and f[14] == ARGV[6] then
    redis.call('HSET', KEYS[1], 'a', ARGV[4])
    return {'reissued', f[6], f[4], f[5], f[11] or '', f[12], f[16] or ''}
  end
  redis.call('HSET', KEYS[1], 'p', '1')
  return {'replayed', f[9] or '', f[11] or '', f[12] or ''}
end
if tonumber(f[7]) <= now then return {'expired'} end
if f[2] ~= ARGV[2] then return {'redirect_mismatch'} end
if f[3] ~= ARGV[3] then return {'verifier_mismatch'} end
if ARGV[6] ~= '' then
  local bound = {}
  for r in string.gmatch(f[5], '%S+') do bound[r] = true end
  for r in string.gmatch(ARGV[6], '%S+') do
    if not bound[r] then return {'invalid_target'} end
  end
end
local keep = math.max(tonumber(f[7]), tonumber(ARGV[5]))
redis.call('HSET', KEYS[1], 'st', 'R', 'e', tostring(keep),
  'ca', ARGV[4], 'a', ARGV[4], 'nt', ARGV[6], 'cf', '0')
redis.call('PEXPIREAT', KEYS[1], keep)
return {'redeemed', f[6], f[4], f[5], f[11] or '', ARGV[4], f[16] or ''}
`;

/** KEYS: code. ARGV: issued tokens → 'attached' | 'replayed'. Confirms the redemption. */
export const ATTACH_CODE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'attached' end
if redis.call('HGET', KEYS[1], 'p') == '1' then return 'replayed' end
redis.call('HSET', KEYS[1], 'i', ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'cf') == 1 then redis.call('HSET', KEYS[1], 'cf', '1') end
return 'attached'
`;

/** KEYS: code. Ends a failed attempt's lease: a redeemed, unconfirmed code's attempt time becomes 0. */
export const RELEASE_CODE = `
local f = redis.call('HMGET', KEYS[1], 'st', 'cf', 'a')
if f[1] ~= 'R' or f[2] ~= '0' or f[3] == '0' then return 0 end
redis.call('HSET', KEYS[1], 'a', '0')
return 1
`;
