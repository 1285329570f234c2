-- process_invalid workload: POST /api/process_data with quantity 0, below the minimum of 1
-- (expect 400 problem+json). Measures the cost of the error path, which clients hit for real.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"user_id": 42, "item_id": 7, "quantity": 0}'
