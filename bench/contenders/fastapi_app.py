"""FastAPI contender: the benchmarked endpoints as a FastAPI user would write them.

This is the peer people would pick instead of the service, so it is written the idiomatic
way and nothing more: a strict pydantic v2 model for the body, response models, ``async def``
handlers. The one deviation from FastAPI's defaults is the validation error handler: FastAPI
answers 422 with its own body, and the comparison needs the same 400 problem+json the service
returns, so both sides do the same work for the same result.

Run it as ``uvicorn bench.contenders.fastapi_app:app``; bench/run.py does that.
"""

from typing import Annotated

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

INT32_MAX = 2_147_483_647


class ProcessDataRequest(BaseModel):
    # strict: no "3" -> 3 or true -> 1 coercion; forbid: unknown keys are an error, as in the spec.
    model_config = ConfigDict(extra="forbid", strict=True)

    user_id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    item_id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]


class ProcessDataResult(BaseModel):
    user_id: int
    item_id: int
    quantity: int


class ProcessDataResponse(BaseModel):
    status: str
    message: str
    result: ProcessDataResult


class HelloResponse(BaseModel):
    message: str


app = FastAPI(title="FastAPI contender")


@app.exception_handler(RequestValidationError)
async def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    """400 application/problem+json with one {field, message} per pydantic error."""
    errors = [
        {
            # loc is ("body", "quantity") for a field, ("body", <offset>) for malformed JSON.
            "field": "body"
            if error["type"] == "json_invalid"
            else ".".join(str(part) for part in error["loc"][1:]) or "body",
            "message": error["msg"],
        }
        for error in exc.errors()
    ]
    return JSONResponse(
        status_code=400,
        media_type="application/problem+json",
        content={
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            "instance": request.url.path,
            "errors": errors,
        },
    )


@app.get("/api/hello")
async def hello() -> HelloResponse:
    return HelloResponse(message="Hello, World!")


@app.post("/api/process_data")
async def process_data(body: ProcessDataRequest) -> ProcessDataResponse:
    return ProcessDataResponse(
        status="success",
        message="Data processed",
        result=ProcessDataResult(
            user_id=body.user_id, item_id=body.item_id, quantity=body.quantity * 2
        ),
    )
