"""Raw Starlette contender: the benchmarked endpoints written by hand, the practical ceiling.

It does the same observable work as the service (parse JSON, check the three fields, answer
200 JSON or 400 problem+json of the same shape) with nothing in between: no spec, no schema
engine, no middleware. Whatever the service spends above this is the price of its framework,
which is what the "ratio to Starlette" column of the benchmark shows.

Run it as ``uvicorn bench.contenders.starlette_app:app``; bench/run.py does that.
"""

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# Inclusive upper bounds from the spec; every field's minimum is 1.
MAXIMUMS: dict[str, int] = {
    "user_id": 2_147_483_647,
    "item_id": 2_147_483_647,
    "quantity": 1_000_000,
}

PROCESS_DATA_PATH = "/api/process_data"


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


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
    return json_response(
        {
            "status": "success",
            "message": "Data processed",
            "result": {
                "user_id": payload["user_id"],
                "item_id": payload["item_id"],
                "quantity": payload["quantity"] * 2,
            },
        }
    )


app = Starlette(
    routes=[
        Route("/api/hello", hello, methods=["GET"]),
        Route(PROCESS_DATA_PATH, process_data, methods=["POST"]),
    ]
)
