/**
 * The Lua scripts behind the Redis device store. Each is one atomic step, run
 * by EVALSHA (ioredis `defineCommand` falls back to EVAL on NOSCRIPT).
 *
 * They mirror `applyPoll` / `applyDecision` in src/domain/transitions.ts; the
 * store contract suite runs the same cases against both.
 *
 * Record layout: a hash at `device:code:{tag}:<sha256(device_code)>` with
 * short fields (c client, s scopes, r resources, t created, e expires,
 * i interval, p last poll, st status P/A/D/C, u subject, g granted scopes,
 * ip, ua); a string at `device:user_code:{tag}:<sha256(user_code)>` holding
 * the record key's hash part. Both carry the same `{tag}`, so they share a
 * Cluster hash slot; scripts that follow the index build the record key from
 * ARGV and the pointer, which stays inside that slot.
 */

/** KEYS: user index, record. ARGV: expiresAt ms, record hash part, field/value pairs… → 1 | 0 (user code taken) */
export const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[1])
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS: record. ARGV: clientId, now ms, minGapMs, stepSeconds.
 * → {'unknown'} | {'wrong_client'} | {'expired'} | {'denied'} | {'consumed'}
 *   | {'pending', interval} | {'slow_down', interval}
 *   | {'issued', subject, grantedScopes, resources}
 */
export const POLL = `
local f = redis.call('HMGET', KEYS[1], 'c', 'e', 'st', 'i', 'p')
if not f[1] then return {'unknown'} end
if f[1] ~= ARGV[1] then return {'wrong_client'} end
local now = tonumber(ARGV[2])
if tonumber(f[2]) <= now then return {'expired'} end
local st = f[3]
if st == 'A' then
  redis.call('HSET', KEYS[1], 'st', 'C', 'p', ARGV[2])
  local g = redis.call('HMGET', KEYS[1], 'u', 'g', 'r')
  return {'issued', g[1] or '', g[2] or '', g[3] or ''}
elseif st == 'D' then return {'denied'}
elseif st == 'C' then return {'consumed'}
end
local interval = tonumber(f[4])
local last = tonumber(f[5])
if last > 0 and now - last < tonumber(ARGV[3]) then
  interval = interval + tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], 'i', interval, 'p', ARGV[2])
  return {'slow_down', interval}
end
redis.call('HSET', KEYS[1], 'p', ARGV[2])
return {'pending', interval}
`;

/** KEYS: user index. ARGV: record key prefix (through the tag), now ms. → flat HGETALL of the record, or {} */
export const FIND = `
local ptr = redis.call('GET', KEYS[1])
if not ptr then return {} end
local rec = ARGV[1] .. ptr
local e = redis.call('HGET', rec, 'e')
if not e or tonumber(e) <= tonumber(ARGV[2]) then return {} end
return redis.call('HGETALL', rec)
`;

/**
 * KEYS: user index. ARGV: record key prefix, now ms, new status (A|D), subject, granted scopes.
 * → {'not_found'} | {'already_decided', status} | {'decided', …flat HGETALL after the change}
 */
export const DECIDE = `
local ptr = redis.call('GET', KEYS[1])
if not ptr then return {'not_found'} end
local rec = ARGV[1] .. ptr
local f = redis.call('HMGET', rec, 'st', 'e')
if not f[1] or tonumber(f[2]) <= tonumber(ARGV[2]) then return {'not_found'} end
if f[1] ~= 'P' then return {'already_decided', f[1]} end
redis.call('HSET', rec, 'st', ARGV[3], 'u', ARGV[4], 'g', ARGV[5])
local out = redis.call('HGETALL', rec)
table.insert(out, 1, 'decided')
return out
`;
