-- wrk: create RDMs (POST /api/v1/rdms) as the demo tester.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"title":"Carga: atualizar pacote","description":"benchmark","impact":"medium","urgency":"high","risk":"low","implementation_plan":"aplicar","estimated_duration_minutes":60,"rollback_plan":"reverter","estimated_rollback_minutes":30,"configuration_item_ids":[1,2]}'
