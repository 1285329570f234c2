"""Flask contender: the classic tutorial app, served by gunicorn's sync workers.

This is the baseline many services start from: ``@app.route``, ``request.get_json()``, checks
written inline, ``jsonify``, and plain ``sqlite3`` storage: ``get_db()``, ``execute`` +
``commit``. It is a WSGI app, so bench/run.py serves it with gunicorn (one sync worker per
process, which is also how the tutorials deploy it) instead of uvicorn.

One deviation from the tutorial: its ``get_db()`` opens a connection per request (kept on
``g``, closed on teardown). In WAL mode, closing the last connection to a database
checkpoints the WAL into the main file, fsyncs it and deletes the WAL: with one sync worker
every request's close is the last one, which costs about 2 ms per write on this machine
against 0.04 ms for the INSERT and commit themselves. That is SQLite file upkeep the other
contenders (which keep their connections open) never pay, not the price of Flask, so
here each worker keeps one connection open for its lifetime, as the peers do.

The SQLite file is ``$BENCH_DB`` (bench/run.py makes a fresh one per server start), in WAL
mode with synchronous=NORMAL like the service's; the tables and user 1 are created at import
if missing (the tutorial's ``init-db``, done here so that the harness has one step less).

Run it as ``gunicorn bench.contenders.flask_app:app``; bench/run.py does that.
"""

import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

MAXIMUMS = {"user_id": 2_147_483_647, "item_id": 2_147_483_647, "quantity": 1_000_000}

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    age INTEGER,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    processed_quantity INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_records_user_id_id ON records (user_id, id);
"""

app = Flask(__name__)
app.config["DATABASE"] = os.environ["BENCH_DB"]


_connection: sqlite3.Connection | None = None  # this worker's; gunicorn forks before import


def get_db() -> sqlite3.Connection:
    global _connection
    if _connection is None:
        _connection = sqlite3.connect(app.config["DATABASE"])
        _connection.row_factory = sqlite3.Row
        _connection.execute("PRAGMA synchronous=NORMAL")
    return _connection


def init_db() -> None:
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(app.config["DATABASE"]) as db:
        db.executescript(SCHEMA)
        db.execute(
            "INSERT OR IGNORE INTO users (id, name, email, age, version, created_at, updated_at)"
            " VALUES (1, 'Ada Lovelace', 'ada@example.com', 36, 1, ?, ?)",
            (now, now),
        )
    db.close()


init_db()


def problem(
    detail: str,
    errors: list[dict[str, str]] | None = None,
    status: int = 400,
    title: str = "Bad Request",
) -> tuple[Response, int]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.mimetype = "application/problem+json"
    return response, status


@app.route("/api/hello")
def hello() -> Response:
    return jsonify({"message": "Hello, World!"})


@app.route("/api/process_data", methods=["POST"])
def process_data() -> Response | tuple[Response, int]:
    # silent=True: a malformed body gives None here rather than Flask's HTML 400 page.
    data: Any = request.get_json(silent=True)
    if not isinstance(data, dict):
        return problem(
            "Request body must be a JSON object",
            [{"field": "body", "message": "Request body must be a JSON object"}],
        )

    errors = [
        {"field": key, "message": "Additional properties are not allowed"}
        for key in data
        if key not in MAXIMUMS
    ]
    for field, maximum in MAXIMUMS.items():
        if field not in data:
            errors.append({"field": field, "message": f"'{field}' is a required property"})
        elif not isinstance(data[field], int) or isinstance(data[field], bool):
            errors.append({"field": field, "message": "must be an integer"})
        elif not 1 <= data[field] <= maximum:
            errors.append({"field": field, "message": f"must be between 1 and {maximum}"})
    if errors:
        return problem("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)

    db = get_db()
    cursor = db.execute(
        "INSERT INTO records (user_id, item_id, quantity, processed_quantity, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (
            data["user_id"],
            data["item_id"],
            data["quantity"],
            data["quantity"] * 2,
            datetime.now(UTC).isoformat(),
        ),
    )
    db.commit()
    response = jsonify(
        {
            "status": "success",
            "message": "Data processed",
            "record_id": cursor.lastrowid,
            "result": {
                "user_id": data["user_id"],
                "item_id": data["item_id"],
                "quantity": data["quantity"] * 2,
            },
        }
    )
    response.headers["Location"] = f"/api/records/{cursor.lastrowid}"
    return response


@app.route("/api/users/<int:user_id>")
def get_user(user_id: int) -> Response | tuple[Response, int]:
    user = get_db().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if user is None:
        return problem(f"There is no user {user_id}.", status=404, title="Not Found")
    response = jsonify(
        {
            "id": user["id"],
            "name": user["name"],
            "email": user["email"],
            "age": user["age"],
            "created_at": user["created_at"],
            "updated_at": user["updated_at"],
        }
    )
    response.headers["ETag"] = f'"{user["version"]}"'
    return response
