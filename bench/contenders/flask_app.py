"""Flask contender: the classic tutorial app, served by gunicorn's sync workers.

This is the baseline many services start from: ``@app.route``, ``request.get_json()``, checks
written inline, ``jsonify``. It is a WSGI app, so bench/run.py serves it with gunicorn (one
sync worker per process, which is also how the tutorials deploy it) instead of uvicorn.

Run it as ``gunicorn bench.contenders.flask_app:app``; bench/run.py does that.
"""

from typing import Any

from flask import Flask, Response, jsonify, request

MAXIMUMS = {"user_id": 2_147_483_647, "item_id": 2_147_483_647, "quantity": 1_000_000}

app = Flask(__name__)


def problem(detail: str, errors: list[dict[str, str]]) -> tuple[Response, int]:
    response = jsonify(
        {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": detail,
            "instance": request.path,
            "errors": errors,
        }
    )
    response.mimetype = "application/problem+json"
    return response, 400


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

    return jsonify(
        {
            "status": "success",
            "message": "Data processed",
            "result": {
                "user_id": data["user_id"],
                "item_id": data["item_id"],
                "quantity": data["quantity"] * 2,
            },
        }
    )
