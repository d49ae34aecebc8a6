/**
 * Lua scripts of the Redis counter store. Each decision is ONE script: Redis runs it atomically, so
 * any number of gateway processes see one exact sequence of decisions. Time comes from Redis
 * (`TIME`) unless the caller passes a clock (tests), so gateway clock skew cannot loosen a limit.
 * The arithmetic mirrors memory/counter-store.ts; the conformance suite runs both.
 */

/** `now` from ARGV[1], or Redis' own clock; calendar bounds of a quota period (UTC). */
const PRELUDE = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function days_from_civil(y, m)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5)
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end
local function bounds(period)
  if period == 'hour' then local s = now - now % 3600000; return s, s + 3600000 end
  if period == 'day' then local s = now - now % 86400000; return s, s + 86400000 end
  local z = math.floor(now / 86400000) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  local ny, nm = y, m + 1
  if nm > 12 then ny, nm = y + 1, 1 end
  return days_from_civil(y, m) * 86400000, days_from_civil(ny, nm) * 86400000
end
`;

/**
 * KEYS: one per rule. ARGV: now|'', token, then per rule: kind (r|q|c), limit, p1, p2
 * (r: windowMs, burst; q: period, unused; c: leaseMs, unused).
 * Returns: allowed (0|1), retryAfterMs, then per rule remaining, resetMs, retryAfterMs (integers).
 */
export const DECIDE = `${PRELUDE}
local eps = 1e-6
-- Keys outlive their state by a minute: harmless (a stale TAT is in the past, a quota key names
-- its period), and it keeps a caller-given clock (tests) independent of Redis' own expiry clock.
local linger = 60000
local token = ARGV[2]
local allowed, retry = 1, 0
local out, plan = {}, {}
for i = 1, #KEYS do
  local b = 2 + (i - 1) * 4
  local kind, limit, p1, p2 = ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3], ARGV[b + 4]
  local rem, reset, wait = 0, 0, 0
  if kind == 'r' then
    local interval = tonumber(p1) / limit
    local cap = (tonumber(p2) + 1) * interval
    local v = redis.call('GET', KEYS[i])
    local tat = v and tonumber(v) or now
    if tat < now then tat = now end
    local nxt = tat + interval
    if nxt - now > cap + eps then
      reset, wait = tat - now, nxt - now - cap
    else
      rem, reset, plan[i] = math.floor((cap - (nxt - now)) / interval + eps), nxt - now, nxt
    end
  elseif kind == 'q' then
    local s, e = bounds(p1)
    local key = KEYS[i] .. ':' .. string.format('%d', s)
    local count = tonumber(redis.call('GET', key) or '0')
    reset = e - now
    if count + 1 > limit then wait = e - now else rem, plan[i] = limit - count - 1, { key, e - now } end
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    local inflight = redis.call('ZCARD', KEYS[i])
    if inflight + 1 > limit then wait = 1000 else rem, plan[i] = limit - inflight - 1, tonumber(p1) end
  end
  if wait > 0 then
    allowed = 0
    if wait > retry then retry = wait end
  end
  out[#out + 1], out[#out + 2], out[#out + 3] = rem, math.ceil(reset), math.ceil(wait)
end
if allowed == 1 then
  for i = 1, #KEYS do
    local kind, p = ARGV[2 + (i - 1) * 4 + 1], plan[i]
    if kind == 'r' then
      redis.call('SET', KEYS[i], string.format('%.3f', p), 'PX', math.ceil(p - now) + linger)
    elseif kind == 'q' then
      redis.call('INCR', p[1])
      redis.call('PEXPIRE', p[1], math.ceil(p[2]) + linger)
    else
      redis.call('ZADD', KEYS[i], now + p, token)
      redis.call('PEXPIRE', KEYS[i], p)
    end
  end
else
  -- nothing is charged: show the uncharged state of the rules that would have admitted
  for i = 1, #KEYS do
    local o = (i - 1) * 3
    if out[o + 3] == 0 then
      out[o + 1] = out[o + 1] + 1
      if ARGV[2 + (i - 1) * 4 + 1] == 'r' then
        local interval = tonumber(ARGV[2 + (i - 1) * 4 + 3]) / tonumber(ARGV[2 + (i - 1) * 4 + 2])
        out[o + 2] = math.max(0, math.ceil(plan[i] - interval - now))
      end
    end
  end
end
local res = { allowed, math.ceil(retry) }
for j = 1, #out do res[#res + 1] = out[j] end
return res
`;

/**
 * KEYS[1]: lockout hash (f failures, w window start, l level, u locked until).
 * ARGV: now|'', threshold, windowMs, baseMs, maxMs, resetMs. Returns failures, level, lockedUntil, started (0|1).
 */
export const RECORD_FAILURE = `${PRELUDE}
local threshold, window, base, max, resetMs = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local h = redis.call('HMGET', KEYS[1], 'f', 'w', 'l', 'u')
local f, w, l, u = tonumber(h[1] or '0'), tonumber(h[2] or tostring(now)), tonumber(h[3] or '0'), tonumber(h[4] or '0')
local started = 0
if u <= now then
  if now - w >= window then f, w = 0, now end
  f = f + 1
  if f >= threshold then
    l = l + 1
    u = now + math.min(max, base * 2 ^ math.min(l - 1, 40))
    f, w, started = 0, now, 1
  end
end
local expires = w + window
if l > 0 and u + resetMs > expires then expires = u + resetMs end
redis.call('HSET', KEYS[1], 'f', f, 'w', string.format('%d', w), 'l', l, 'u', string.format('%d', u))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(expires - now)))
return { f, l, u, started }
`;

/** KEYS: lockout hashes. ARGV: now|''. Returns the latest `lockedUntil` still in the future, or 0. */
export const LOCKED_UNTIL = `${PRELUDE}
local latest = 0
for i = 1, #KEYS do
  local u = tonumber(redis.call('HGET', KEYS[i], 'u') or '0')
  if u > now and u > latest then latest = u end
end
return latest
`;
