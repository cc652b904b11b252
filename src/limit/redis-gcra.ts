// The GCRA of gcra.ts as a Redis / Valkey Lua script, so every replica decides on the same
// buckets atomically (a script runs alone on the server). Time is the server's own clock
// (TIME, in microseconds): replicas with skewed clocks still agree. A bucket key holds its TAT
// and expires when the bucket is full again, so idle budgets cost no memory.
//
// KEYS: bucket keys. ARGV: per key, interval (µs per unit), burst, cost.
// Returns {allowed, index, remaining, retry_after_us, reset_us}, as RateVerdict.
export const GCRA_SCRIPT = `
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000000 + tonumber(now_t[2])
local function units(credit, t)
  if credit <= 0 then return 0 end
  return math.floor(credit / t + 1e-9)
end
local tats = {}
local best = -1
local best_rem = 0
local best_reset = 0
for i = 1, #KEYS do
  local t = tonumber(ARGV[i * 3 - 2])
  local burst = tonumber(ARGV[i * 3 - 1])
  local cost = tonumber(ARGV[i * 3])
  local tol = t * burst
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  local base = math.max(tat, now)
  local nxt = base + cost * t
  if base > now and nxt - now > tol * (1 + 1e-9) then
    local at = math.min(tat, nxt - tol)
    return {0, i - 1, units(tol - (base - now), t), math.ceil(at - now), math.ceil(base - now)}
  end
  tats[i] = nxt
  local r = units(tol - (nxt - now), t)
  if best < 0 or r < best_rem then
    best = i - 1
    best_rem = r
    best_reset = nxt - now
  end
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + 1000)
end
return {1, best, best_rem, 0, math.ceil(best_reset)}
`;
