-- process_valid workload: POST /api/process_data with a body that passes validation (expect 200).
-- bench/workloads.py sends the same body in its one-off status probe and checks the two agree.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"user_id": 42, "item_id": 7, "quantity": 3}'
