-- wrk: read random RDMs (GET /api/v1/rdms/{id}) among the first MAX_ID.
local max_id = tonumber(os.getenv("MAX_ID"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
  return wrk.format("GET", "/api/v1/rdms/" .. math.random(1, max_id))
end
