-- Wrong passwords for accounts that do not exist, a new name on every request: the
-- per-account throttle never applies, so each request reaches the password check.
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"username":"nobody-%d-%d","password":"wrong-password"}', math.random(1, 1e9), n)
  return wrk.format("POST", "/api/v1/auth/token", {["Content-Type"] = "application/json"}, body)
end
local codes = {}
response = function(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end
done = function(summary, latency, requests)
  -- wrk's threads keep their own counters: print per-thread tallies from the main state is not
  -- possible, so report what wrk itself knows.
  io.write(string.format("  requests %d, non-2xx %d, p50 %.1f ms, p99 %.1f ms\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
