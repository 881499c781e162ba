/**
 * The Lua scripts behind the operators' listings and actions (README
 * "Operator listings"), kept apart from the hot-path scripts they mirror.
 *
 * Per-client indexes, each in the client's own slot, so each is written by
 * its own step after the record it points to: a secondary structure. A crash
 * in between leaves a record unlisted, never a listed record that never
 * existed; an entry whose record is gone is pruned on read.
 *
 * `token:client:{client}`: family ids in a sorted set scored by creation
 * time (INDEX_BY_CREATION), like the subject's index.
 *
 * `device:client:{client}`: pending requests, which are many and short-lived,
 * so an entry must cost little next to the record's ~320 bytes (a sorted-set
 * entry costs ~120 once past the compact encoding). Requests are kept in
 * buckets of one minute of creation: `device:client:{client}:<bucket>` is a
 * string of fixed-width entries appended to (`<tag><hash><created>`: the
 * device-code handle, 20 characters, and the creation ms in 8 base-36 digits),
 * expiring with its last request; `device:client:{client}` is a sorted set of
 * the bucket ids scored by their start (INDEX_PENDING). On one Redis (no
 * Cluster) the entry is written by the request's CREATE itself
 * (CREATE_INDEXED): same order, same best effort, one round trip.
 */
import { COUNTER_LIB } from "./attempt-counter-scripts.js";
import { LIB } from "./redis-scripts.js";
import { LIVE_TOKENS } from "./redis-token-scripts.js";

/**
 * KEYS: the index. ARGV: member, created ms, end ms (when it surely ends).
 * Adds the member, drops the entries created more than one lifetime (end -
 * created) before it, as those have ended, so the index stays bounded by what
 * may be live even when nobody lists it; keeps the key until the last entry
 * could still be live → number of entries.
 */
export const INDEX_BY_CREATION = `
local created, ends = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', created - (ends - created)))
if redis.call('PEXPIRETIME', KEYS[1]) < ends then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return redis.call('ZCARD', KEYS[1])
`;

/** Characters of one pending entry: tag (4), hash (16), creation ms (8, base 36). */
export const PENDING_ENTRY_WIDTH = 28;
/** The span of one pending bucket. */
export const PENDING_BUCKET_MS = 60_000;

/**
 * `index_pending(set, bucket, entry, bucket id, bucket start ms, created ms,
 * end ms)`: appends the entry to the bucket; a new bucket joins the set,
 * which drops buckets that started more than a lifetime (end - created) and
 * a bucket before it. The bucket, and the set with it, are kept until the
 * last request the bucket's minute can hold ends at this lifetime, so an
 * append to a bucket that exists is two commands, not seven (a request that
 * ends later still moves both) → the bucket's length.
 */
const INDEX_PENDING_FN = `
local function index_pending(set, bucket, entry, id, start, created, ends)
  local n = redis.call('APPEND', bucket, entry)
  start, created, ends = tonumber(start), tonumber(created), tonumber(ends)
  local fresh = n == #entry
  if fresh then
    redis.call('ZADD', set, start, id)
    local before = start - (ends - created) - ${PENDING_BUCKET_MS}
    redis.call('ZREMRANGEBYSCORE', set, '-inf', '(' .. string.format('%d', before))
  end
  if redis.call('PEXPIRETIME', bucket) < ends then
    local keep = ends
    if fresh then keep = start + ${PENDING_BUCKET_MS} + (ends - created) end
    redis.call('PEXPIREAT', bucket, keep)
    if redis.call('PEXPIRETIME', set) < keep then redis.call('PEXPIREAT', set, keep) end
  end
  return n
end
`;

/**
 * KEYS: the client's bucket set, a bucket. ARGV: the bucket's id. Takes the
 * id out of the set only if the bucket is still gone: a create may have
 * started it again since it was read (and only a new bucket joins the set).
 */
export const FORGET_BUCKET = `
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
`;

/**
 * KEYS: the client's bucket set, the bucket. ARGV: entry, bucket id, bucket
 * start ms, created ms, end ms → the bucket's length (`index_pending`). The
 * index's own step after CREATE, where the client's keys are in another slot
 * than the record (Redis Cluster).
 */
export const INDEX_PENDING = `${INDEX_PENDING_FN}
return index_pending(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
`;

/**
 * CREATE (redis-scripts.ts) and the pending index in one script, for one
 * Redis, where every key is on the one server: one round trip for a device
 * authorization instead of two. KEYS: user index, record, the client's bucket
 * set, the bucket. ARGV: expiresAt ms (also when the entry surely ends),
 * record hash part, packed record, entry, bucket id, bucket start ms, created
 * ms → 1 | 0 (user code taken, nothing written). The index stays best effort
 * and after the record: an error in it (pcall) leaves the record written and
 * the request unlisted, as a failed second step would.
 */
export const CREATE_INDEXED = `${INDEX_PENDING_FN}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[1])
pcall(index_pending, KEYS[3], KEYS[4], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[1])
return 1
`;

/**
 * CREATE_INDEXED with the device-authorization quota charged in the same
 * step, for one Redis: one command per authorization instead of two (the
 * counter's `{authorize}` keys are in another slot than the record's, so on
 * a Cluster they stay two steps; src/domain/device-flow.ts). KEYS: as
 * CREATE_INDEXED, then the quota's counters. ARGV: as CREATE_INDEXED, then
 * as ATTEMPT (attempt-counter-scripts.ts) for the counters. The charge is
 * ATTEMPT's, made first and whether or not the user code is free, as the
 * two-step path charges it → {0, retry-after ms} refused (nothing charged,
 * nothing written) | {1, 1} charged and created | {1, 0} charged, user code
 * taken (nothing written). An empty entry (ARGV[4]) leaves the index alone.
 */
export const CREATE_CHARGED = `${INDEX_PENDING_FN}${COUNTER_LIB}
KO, AO = 4, 7
local wait = attempt(tonumber(ARGV[8]), #KEYS - 4)
if wait > 0 then return {0, wait} end
if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PXAT', ARGV[1]) then return {1, 0} end
redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[1])
if ARGV[4] ~= '' then
  pcall(index_pending, KEYS[3], KEYS[4], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[1])
end
return {1, 1}
`;

/**
 * KEYS: a pending bucket. ARGV: entries to drop (found stale on read).
 * Removes them from the current value (entries appended since the read stay),
 * and the bucket when nothing is left → its length.
 */
export const PRUNE_PENDING = `
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
local drop, out = {}, {}
for i = 1, #ARGV do drop[ARGV[i]] = true end
for i = 1, #s, ${PENDING_ENTRY_WIDTH} do
  local e = string.sub(s, i, i + ${PENDING_ENTRY_WIDTH - 1})
  if not drop[e] then out[#out + 1] = e end
end
s = table.concat(out)
if #s == 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], s, 'KEEPTTL') end
return #s
`;

/**
 * KEYS: family. ARGV: now ms, revoked-key prefix (through the tag).
 * → {'not_found'} | {'revoked', subject, client, jti, exp, …} (an operator's
 * RevokeGrant by family id; see `applyOperatorRevocation`)
 */
export const REVOKE_BY_ID = `${LIVE_TOKENS}
local f = redis.call('HMGET', KEYS[1], 'u', 'c', 'ie', 'ae', 'j')
if not f[1] then return {'not_found'} end
local now = tonumber(ARGV[1])
if tonumber(f[3]) <= now or tonumber(f[4]) <= now then return {'not_found'} end
local live = live_tokens(f[5], now)
revoke_all(KEYS[1], live, ARGV[2])
table.insert(live, 1, f[2])
table.insert(live, 1, f[1])
table.insert(live, 1, 'revoked')
return live
`;

/**
 * KEYS: the record. ARGV: now ms, new status (A|D), subject, granted scopes.
 * → {'not_found'} | {'already_decided', status, packed record} | {'decided', packed record after the change}
 * DECIDE (redis-scripts.ts) found by the device-code handle instead of the user code.
 */
export const DECIDE_BY_RECORD = `${LIB}
local s = redis.call('GET', KEYS[1])
if not s then return {'not_found'} end
local f = fields(s)
if tonumber(f[EXPIRES], 36) <= tonumber(ARGV[1]) then return {'not_found'} end
if f[ST] ~= 'P' then return {'already_decided', f[ST], s} end
f[ST] = ARGV[2]
f[SUBJECT] = ARGV[3]
f[GRANTED] = ARGV[4]
local out = table.concat(f, SEP)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return {'decided', out}
`;
