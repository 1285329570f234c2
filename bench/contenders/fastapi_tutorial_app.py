"""FastAPI contender, as FastAPI's own tutorial teaches it: SQLModel, sync sessions, thread pool.

The "SQL (Relational) Databases" chapter of the FastAPI tutorial is what most FastAPI users
copy, so this peer is that chapter's code with the benchmarked endpoints in place of its
heroes, and nothing tuned:

- SQLModel models (a ``...Base`` with the fields, a ``table=True`` model, a ``...Create``
  model for the body and a ``...Public`` model for the answer);
- ``create_engine(sqlite_url, connect_args={"check_same_thread": False})``, tables made by
  ``SQLModel.metadata.create_all(engine)`` in ``@app.on_event("startup")``;
- ``get_session()`` yielding a ``Session(engine)`` and ``SessionDep = Annotated[Session,
  Depends(get_session)]``;
- plain ``def`` path operations, which FastAPI runs in its thread pool (anyio's, 40
  threads), as is the session dependency; ``Model.model_validate(body)``, ``session.add``,
  ``session.commit``, ``session.refresh``, ``session.get(Model, id)``;
- FastAPI's own errors: 422 with its ``{"detail": [...]}`` body on an invalid body, 404
  ``{"detail": ...}`` for an unknown user (no problem+json handlers: the tutorial has none);
- the API key checked by a dependency on ``APIKeyHeader`` (FastAPI's security utilities),
  compared in constant time with the key the benchmark sends (bench/credentials.py). The
  other peers check no credential; this one does, as its users would.

The body has the service's constraints (user_id and item_id 1..2147483647, quantity
1..1000000, unknown fields forbidden) in pydantic's default (lax) mode, as the tutorial
writes models: ``"3"`` would be accepted as 3 here, where the service's schema refuses it.

One deviation, the one every contender shares: the SQLite file is ``$BENCH_DB`` (a fresh one
per server start) in WAL mode with synchronous=NORMAL, set by a connect listener, with the
service's ``records`` columns, AUTOINCREMENT and ``(user_id, id)`` index. The tutorial's
default journal would fsync on every commit, and the comparison would measure SQLite's
settings rather than the framework. User 1 is created at start-up if missing.

Run it as ``uvicorn bench.contenders.fastapi_tutorial_app:app`` (what ``fastapi run`` starts);
bench/run.py does that with the same flags as the other ASGI contenders.
"""

import os
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Response, Security
from fastapi.security import APIKeyHeader
from sqlalchemy import Index, event
from sqlmodel import Field, Session, SQLModel, create_engine

from bench.credentials import API_KEY

INT32_MAX = 2_147_483_647


class UserBase(SQLModel):
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, unique=True)
    age: int | None = None


class User(UserBase, table=True):
    __tablename__ = "users"
    # AUTOINCREMENT, as in the service's tables: ids of deleted rows are never reused.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    version: int = 1
    created_at: datetime
    updated_at: datetime


class UserPublic(UserBase):
    id: int
    created_at: datetime
    updated_at: datetime


class RecordBase(SQLModel):
    user_id: int = Field(ge=1, le=INT32_MAX)
    item_id: int = Field(ge=1, le=INT32_MAX)
    quantity: int = Field(ge=1, le=1_000_000)


class Record(RecordBase, table=True):
    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_user_id_id", "user_id", "id"),  # the service's index, same upkeep
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    processed_quantity: int
    created_at: datetime


class RecordCreate(RecordBase):
    model_config = {"extra": "forbid"}  # unknown keys are an error, as in the service's spec


class ProcessDataResult(SQLModel):
    user_id: int
    item_id: int
    quantity: int


class ProcessDataPublic(SQLModel):
    status: str
    message: str
    record_id: int
    result: ProcessDataResult


sqlite_url = f"sqlite:///{os.environ['BENCH_DB']}"

connect_args = {"check_same_thread": False}
engine = create_engine(sqlite_url, connect_args=connect_args)


@event.listens_for(engine, "connect")
def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The benchmark's common SQLite settings (see the module docstring); not in the tutorial.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_and_tables() -> None:
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        if session.get(User, 1) is None:
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
            session.commit()


def get_session() -> Any:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

api_key_header = APIKeyHeader(name="X-API-Key")


async def verify_api_key(api_key: Annotated[str, Security(api_key_header)]) -> str:
    if not secrets.compare_digest(api_key.encode(), API_KEY.encode()):
        raise HTTPException(status_code=401, detail="Invalid API key")
    return api_key


ApiKeyDep = Annotated[str, Depends(verify_api_key)]

app = FastAPI()


@app.on_event("startup")
def on_startup() -> None:
    create_db_and_tables()


@app.get("/api/hello")
async def hello() -> dict[str, str]:
    # As FastAPI's "First Steps" writes it: no database, so `async def`, no thread hop.
    return {"message": "Hello, World!"}


@app.post("/api/process_data", response_model=ProcessDataPublic)
def process_data(
    record: RecordCreate, session: SessionDep, _key: ApiKeyDep, response: Response
) -> Any:
    db_record = Record.model_validate(
        record,
        update={"processed_quantity": record.quantity * 2, "created_at": datetime.now(UTC)},
    )
    session.add(db_record)
    session.commit()
    session.refresh(db_record)
    response.headers["Location"] = f"/api/records/{db_record.id}"
    return {
        "status": "success",
        "message": "Data processed",
        "record_id": db_record.id,
        "result": {
            "user_id": db_record.user_id,
            "item_id": db_record.item_id,
            "quantity": db_record.processed_quantity,
        },
    }


@app.get("/api/users/{user_id}", response_model=UserPublic)
def get_user(user_id: int, session: SessionDep, _key: ApiKeyDep, response: Response) -> Any:
    user = session.get(User, user_id)
    if not user:
        raise HTTPException(status_code=404, detail="User not found")
    response.headers["ETag"] = f'"{user.version}"'
    return user
