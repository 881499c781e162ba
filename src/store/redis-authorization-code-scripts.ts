/**
 * The Lua scripts behind the Redis authorization code store, each one atomic
 * step on one key (so one hash slot on a Cluster). They mirror
 * `applyRedemption` and `applyAttach` in src/domain/authorization-code.ts,
 * check for check; the contract suite runs the same cases against both.
 *
 * Layout: a hash at `authorization_code:<handle>` with short field names
 * c client, r redirect_uri ("" if omitted), h challenge, s scopes, x resources
 * (space-joined), u subject, t created, e expires (ms), st status (I issued,
 * R redeemed), i issued tokens, p replayed (0/1). Its TTL ends at `e`.
 */

/** KEYS: code. ARGV: expiresAt ms, then field/value pairs → 1 | 0 (taken). */
export const CREATE_CODE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`;

/**
 * KEYS: code. ARGV: clientId, redirectUri, challenge, now ms, retainUntil ms, resources (space-joined).
 * → {'unknown'} | {'wrong_client'} | {'replayed', issued} | {'expired'} | {'redirect_mismatch'}
 *   | {'verifier_mismatch'} | {'invalid_target'} | {'redeemed', subject, scopes, resources}
 */
export const REDEEM_CODE = `
local f = redis.call('HMGET', KEYS[1], 'c', 'r', 'h', 's', 'x', 'u', 'e', 'st', 'i')
if not f[1] then return {'unknown'} end
if f[1] ~= ARGV[1] then return {'wrong_client'} end
if f[8] == 'R' then
  redis.call('HSET', KEYS[1], 'p', '1')
  return {'replayed', f[9] or ''}
end
if tonumber(f[7]) <= tonumber(ARGV[4]) then return {'expired'} end
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
redis.call('HSET', KEYS[1], 'st', 'R', 'e', tostring(keep))
redis.call('PEXPIREAT', KEYS[1], keep)
return {'redeemed', f[6], f[4], f[5]}
`;

/** KEYS: code. ARGV: issued tokens → 'attached' | 'replayed'. */
export const ATTACH_CODE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'attached' end
if redis.call('HGET', KEYS[1], 'p') == '1' then return 'replayed' end
redis.call('HSET', KEYS[1], 'i', ARGV[1])
return 'attached'
`;
