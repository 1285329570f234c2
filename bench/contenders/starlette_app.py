"""Raw Starlette contender: the benchmarked endpoints written by hand, the practical ceiling.

It does the same observable work as the service (parse JSON, check the three fields, store
the record, answer 200 JSON or 400 problem+json of the same shape; read a user by primary
key) with nothing in between: no spec, no schema engine, no middleware, no ORM. Storage is
``aiosqlite`` used directly: one connection for writes, opened in the lifespan, each INSERT
committed on its own and serialised by an asyncio.Lock (SQLite has one writer), and one for
reads. Whatever the service spends above this is the price of its framework and its data
layer, which is what the "ratio to Starlette" column of the benchmark shows.

The SQLite file is ``$BENCH_DB`` (bench/run.py makes a fresh one per server start); the
tables and user 1 are created at start-up if missing.

Run it as ``uvicorn bench.contenders.starlette_app:app``; bench/run.py does that.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SCHEMA = """
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

# Inclusive upper bounds from the spec; every field's minimum is 1.
MAXIMUMS: dict[str, int] = {
    "user_id": 2_147_483_647,
    "item_id": 2_147_483_647,
    "quantity": 1_000_000,
}

PROCESS_DATA_PATH = "/api/process_data"


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content), status_code, headers=headers, media_type="application/json"
    )


def problem(detail: str, errors: list[dict[str, str]]) -> Response:
    """The 400 application/problem+json body the service returns, same keys and meaning."""
    body = {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": detail,
        "instance": PROCESS_DATA_PATH,
        "errors": errors,
    }
    return Response(orjson.dumps(body), status_code=400, media_type="application/problem+json")


def not_found(detail: str, instance: str) -> Response:
    body = {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": detail,
        "instance": instance,
    }
    return Response(orjson.dumps(body), status_code=404, media_type="application/problem+json")


async def connect(path: str) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path)
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA synchronous=NORMAL")
    return connection


class Storage:
    """The two connections of the process: one writer (behind a lock) and one reader."""

    writer: aiosqlite.Connection
    reader: aiosqlite.Connection
    write_lock: asyncio.Lock


storage = Storage()


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    storage.writer = await connect(os.environ["BENCH_DB"])
    storage.write_lock = asyncio.Lock()
    await storage.writer.executescript(SCHEMA)
    now = datetime.now(UTC).isoformat()
    await storage.writer.execute(
        "INSERT OR IGNORE INTO users (id, name, email, age, version, created_at, updated_at)"
        " VALUES (1, 'Ada Lovelace', 'ada@example.com', 36, 1, ?, ?)",
        (now, now),
    )
    await storage.writer.commit()
    storage.reader = await connect(os.environ["BENCH_DB"])
    try:
        yield
    finally:
        await storage.reader.close()
        await storage.writer.close()


def validate(payload: Any) -> list[dict[str, str]]:
    """Every rule of the ProcessDataRequest schema, checked by hand; returns the errors found."""
    if not isinstance(payload, dict):
        return [{"field": "body", "message": "Request body must be a JSON object"}]
    errors = [
        {"field": str(name), "message": "Additional properties are not allowed"}
        for name in payload.keys() - MAXIMUMS.keys()
    ]
    for name, maximum in MAXIMUMS.items():
        if name not in payload:
            errors.append({"field": name, "message": f"'{name}' is a required property"})
            continue
        value = payload[name]
        # type() rather than isinstance(): bool is a subclass of int, and true is not an integer.
        if type(value) is not int:
            errors.append({"field": name, "message": f"{value!r} is not of type 'integer'"})
        elif value < 1:
            errors.append({"field": name, "message": f"{value} is less than the minimum of 1"})
        elif value > maximum:
            errors.append(
                {"field": name, "message": f"{value} is greater than the maximum of {maximum}"}
            )
    return errors


async def hello(request: Request) -> Response:
    return json_response({"message": "Hello, World!"})


async def process_data(request: Request) -> Response:
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return problem(
            "Request body is not valid JSON",
            [{"field": "body", "message": "Request body is not valid JSON"}],
        )
    errors = validate(payload)
    if errors:
        return problem("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
    user_id, item_id, quantity = payload["user_id"], payload["item_id"], payload["quantity"]
    async with storage.write_lock:
        cursor = await storage.writer.execute(
            "INSERT INTO records (user_id, item_id, quantity, processed_quantity, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (user_id, item_id, quantity, quantity * 2, datetime.now(UTC).isoformat()),
        )
        await storage.writer.commit()
    record_id = cursor.lastrowid
    return json_response(
        {
            "status": "success",
            "message": "Data processed",
            "record_id": record_id,
            "result": {"user_id": user_id, "item_id": item_id, "quantity": quantity * 2},
        },
        headers={"Location": f"/api/records/{record_id}"},
    )


async def get_user(request: Request) -> Response:
    user_id: int = request.path_params["user_id"]
    async with storage.reader.execute(
        "SELECT id, name, email, age, version, created_at, updated_at FROM users WHERE id = ?",
        (user_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return not_found(f"There is no user {user_id}.", request.url.path)
    id_, name, email, age, version, created_at, updated_at = row
    return json_response(
        {
            "id": id_,
            "name": name,
            "email": email,
            "age": age,
            "created_at": created_at,
            "updated_at": updated_at,
        },
        headers={"ETag": f'"{version}"'},
    )


app = Starlette(
    routes=[
        Route("/api/hello", hello, methods=["GET"]),
        Route(PROCESS_DATA_PATH, process_data, methods=["POST"]),
        Route("/api/users/{user_id:int}", get_user, methods=["GET"]),
    ],
    lifespan=lifespan,
)
