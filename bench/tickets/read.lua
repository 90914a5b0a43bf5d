-- wrk: read random tickets (GET /api/v1/tickets/{id}) among the first MAX_ID, as support
-- (rh1 sees every organisation's).
local max_id = tonumber(os.getenv("MAX_ID"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
  return wrk.format("GET", "/api/v1/tickets/" .. math.random(1, max_id))
end
