"""Soak test: the service as users run it, under a realistic mix of requests for a minute,
watched for server errors and for memory that keeps growing.

    .venv/bin/python -m bench.soak [--seconds 60] [--warmup 10] [--workers N]
                                   [--database-url postgresql://...]

Starts ``python -m server`` in production mode (a generated ``APP_SECRET_KEY``) on a fresh
SQLite file in a temporary folder, or on ``--database-url``; migrates it and registers an
API client with ``python -m server migrate`` and ``python -m server clients create``, the
way an operator does, and lifts that client's rate limit (``APP_RATE_LIMIT_CLIENTS``) and
the anonymous one out of the way. Then wrk runs bench/wrk/soak.lua: a warm-up, and the
measured load, a mix of every common operation with a small share of invalid requests. The
resident memory of the server's process tree is sampled once a second.

Gate: exit status 1 if any answer was 5xx, any socket error (connect, read, write, timeout)
happened, the service did not come up, or the RSS grew by 10 % or more between the end of
the warm-up and the end of the load. 0 when all is well, 2 when wrk is missing or the
arguments are wrong, 130 when interrupted. Writes bench/results/soak.json and keeps the
server's log in bench/results/logs/soak-server.log.

Read it a part at a time, in the order a run takes them:

    run.py      the arguments and the run start to end (``main``)
    service.py  ``python -m server``: set up, started, waited for, stopped
    load.py     wrk with bench/wrk/soak.lua, and its JSON result
    memory.py   the RSS of the server's process tree, sampled, and its growth
    metrics.py  the service's own 5xx count on /metrics, next to wrk's
    logs.py     tracebacks, ERROR lines and failed requests in the server's log
    report.py   the gate, the printed summary and bench/results/soak.json
"""
