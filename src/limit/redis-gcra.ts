// The GCRA of gcra.ts as a Redis / Valkey Lua script, so every replica decides on the same
// buckets atomically (a script runs alone on the server). Time is the server's own clock
// (TIME, in microseconds): replicas with skewed clocks still agree. A bucket key holds its TAT
// and expires when the bucket is full again, so idle budgets cost no memory.
//
// One call decides a batch of requests, in order (a later request sees what an earlier one
// charged). Each request's checks are all-or-nothing, as in LocalRateStore.
// KEYS: the bucket keys of every request, in order.
// ARGV: number of requests; then per request: number of checks n, then n × (interval µs, burst, cost).
// Returns per request: allowed (1/0), index, remaining, retry_after_us, reset_us.
export const GCRA_SCRIPT = `
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000000 + tonumber(now_t[2])
local function units(credit, t)
  if credit <= 0 then return 0 end
  return math.floor(credit / t + 1e-9)
end
local out = {}
local k = 1
local a = 2
for r = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  a = a + 1
  local tats = {}
  local refused = nil
  local best = -1
  local best_rem = 0
  local best_reset = 0
  for i = 0, n - 1 do
    local t = tonumber(ARGV[a + i * 3])
    local burst = tonumber(ARGV[a + i * 3 + 1])
    local cost = tonumber(ARGV[a + i * 3 + 2])
    local tol = t * burst
    local tat = tonumber(redis.call('GET', KEYS[k + i])) or now
    local base = math.max(tat, now)
    local nxt = base + cost * t
    if base > now and nxt - now > tol * (1 + 1e-9) then
      local at = math.min(tat, nxt - tol)
      refused = {0, i, units(tol - (base - now), t), math.ceil(at - now), math.ceil(base - now)}
      break
    end
    tats[i] = nxt
    local rem = units(tol - (nxt - now), t)
    if best < 0 or rem < best_rem then
      best = i
      best_rem = rem
      best_reset = nxt - now
    end
  end
  if refused then
    for j = 1, 5 do out[#out + 1] = refused[j] end
  else
    for i = 0, n - 1 do
      redis.call('SET', KEYS[k + i], string.format('%.3f', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000) + 1000)
    end
    out[#out + 1] = 1
    out[#out + 1] = best
    out[#out + 1] = best_rem
    out[#out + 1] = 0
    out[#out + 1] = math.ceil(best_reset)
  end
  k = k + n
  a = a + n * 3
end
return out
`;
