-- dispatch workload: POST /api/dispatch, the payload fanned out to every enabled destination.
-- bench/fanout.py sends the same body in its one-off status probe and checks the two agree.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"payload": {"order_id": 1042, "total": 99.5}}'
