-- wrk: open tickets (POST /api/v1/tickets) as the demo customer.acme, eSocial item (ITEM),
-- random priority.
local item = os.getenv("ITEM")
local priorities = {"low", "medium", "high", "critical"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
  local body = '{"item_id":' .. item .. ',"title":"Carga: erro ao transmitir o evento S-1200",'
    .. '"description":"O retorno do governo veio com rejeição.","priority":"' .. priorities[math.random(1, 4)] .. '"}'
  return wrk.format("POST", "/api/v1/tickets", nil, body)
end
