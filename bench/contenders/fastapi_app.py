"""FastAPI contender ``fastapi-async``: the endpoints on async SQLAlchemy over aiosqlite.

FastAPI written ``async def`` end to end (the way its tutorial teaches, sync
SQLModel sessions in the thread pool, is the ``fastapi-tutorial`` contender,
bench/contenders/fastapi_tutorial_app.py). It is written the idiomatic way and nothing more:
a strict pydantic v2 model for the body, response models, ``async def`` handlers, and
storage the way SQLAlchemy 2's asyncio documentation shows it:
``create_async_engine``, ``async_sessionmaker``, a ``Depends(get_session)`` dependency that
yields an ``AsyncSession`` per request, ORM models, ``session.add`` + ``commit``,
``session.get`` by primary key. The deviations from FastAPI's defaults are the error
handlers: FastAPI answers 422 (and 404) with its own body, and the comparison needs the same
problem+json the service returns, so both sides do the same work for the same result.

The SQLite file is ``$BENCH_DB`` (bench/run.py makes a fresh one per server start), in WAL
mode with synchronous=NORMAL like the service's; the tables and user 1 are created at
start-up if missing.

Run it as ``uvicorn bench.contenders.fastapi_app:app``; bench/run.py does that.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, Index, String, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from starlette.exceptions import HTTPException as StarletteHTTPException

INT32_MAX = 2_147_483_647


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    # AUTOINCREMENT, as in the service's tables: ids of deleted rows are never reused.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    age: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_user_id_id", "user_id", "id"),  # the service's index, same upkeep
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    item_id: Mapped[int]
    quantity: Mapped[int]
    processed_quantity: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ['BENCH_DB']}")


@event.listens_for(engine.sync_engine, "connect")
def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with SessionLocal() as session:
        if await session.get(User, 1) is None:
            now = datetime.now(UTC)
            session.add(
                User(
                    id=1,
                    name="Ada Lovelace",
                    email="ada@example.com",
                    age=36,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.commit()
    yield
    await engine.dispose()


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
    record_id: int
    result: ProcessDataResult


# SQLite hands datetimes back without their time zone; they were stored in UTC.
UTCDateTime = Annotated[
    datetime, AfterValidator(lambda v: v if v.tzinfo else v.replace(tzinfo=UTC))
]


class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    age: int | None
    created_at: UTCDateTime
    updated_at: UTCDateTime


class HelloResponse(BaseModel):
    message: str


app = FastAPI(title="FastAPI contender", lifespan=lifespan)


@app.exception_handler(StarletteHTTPException)
async def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        status_code=exc.status_code,
        media_type="application/problem+json",
        content={
            "type": "about:blank",
            "title": "Not Found" if exc.status_code == 404 else "Error",
            "status": exc.status_code,
            "detail": exc.detail,
            "instance": request.url.path,
        },
    )


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
async def process_data(
    body: ProcessDataRequest, session: SessionDep, response: Response
) -> ProcessDataResponse:
    record = Record(
        user_id=body.user_id,
        item_id=body.item_id,
        quantity=body.quantity,
        processed_quantity=body.quantity * 2,
        created_at=datetime.now(UTC),
    )
    session.add(record)
    await session.commit()  # expire_on_commit=False: record.id stays loaded, no refresh needed
    response.headers["Location"] = f"/api/records/{record.id}"
    return ProcessDataResponse(
        status="success",
        message="Data processed",
        record_id=record.id,
        result=ProcessDataResult(
            user_id=record.user_id, item_id=record.item_id, quantity=record.processed_quantity
        ),
    )


@app.get("/api/users/{user_id}")
async def get_user(user_id: int, session: SessionDep, response: Response) -> UserResponse:
    user = await session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail=f"There is no user {user_id}.")
    response.headers["ETag"] = f'"{user.version}"'
    return UserResponse.model_validate(user)
