"""What the benchmark sends, and the targets the project's service must meet.

To add a workload, append one ``Workload`` to ``WORKLOADS``. A plain GET needs nothing else
(headers such as ``Authorization`` go in ``headers``); any other method or a body needs a Lua
script in bench/wrk/, because that is the only way wrk sets them. The body is also written
here, because before each load the harness sends one real request to check the contender
answers ``expected_status``; ``Workload.check()`` makes sure the two copies agree.
"""

from dataclasses import dataclass, field
from pathlib import Path

from bench.credentials import API_KEY

WRK_SCRIPTS_DIR = Path(__file__).resolve().parent / "wrk"

# The project's service, and the contender every ratio column is relative to.
SUBJECT = "service"
REFERENCE = "starlette"


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    path: str
    expected_status: int
    # Lua script under bench/wrk/ that sets the method and body for wrk.
    script: str | None = None
    # The body that script sends, for the status probe.
    body: bytes | None = None
    # Sent by wrk (-H) and by the probe alike.
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def script_path(self) -> Path | None:
        return WRK_SCRIPTS_DIR / self.script if self.script else None

    def check(self) -> None:
        """Fail fast on a workload that wrk and the probe would send differently."""
        if self.method != "GET" and self.script is None:
            raise ValueError(f"workload {self.name}: wrk needs a Lua script to send {self.method}")
        path = self.script_path
        if path is None:
            return
        if not path.is_file():
            raise ValueError(f"workload {self.name}: no Lua script at {path}")
        if self.body is not None and self.body.decode() not in path.read_text():
            raise ValueError(f"workload {self.name}: body differs from the one in {path.name}")


# Every request authenticates as the service's benchmark client (the peers ignore it);
# GET /api/hello needs no credential and gets none.
AUTH = {"X-API-Key": API_KEY}
JSON = {"Content-Type": "application/json", **AUTH}

WORKLOADS: tuple[Workload, ...] = (
    Workload("hello", "GET", "/api/hello", 200),
    Workload(
        "process_valid",
        "POST",
        "/api/process_data",
        200,
        script="post_valid.lua",
        body=b'{"user_id": 42, "item_id": 7, "quantity": 3}',
        headers=JSON,
    ),
    Workload(
        "process_invalid",
        "POST",
        "/api/process_data",
        400,
        script="post_invalid.lua",
        body=b'{"user_id": 42, "item_id": 7, "quantity": 0}',
        headers=JSON,
    ),
    # One SELECT by primary key; user 1 is seeded in every contender's fresh database.
    Workload("get_user", "GET", "/api/users/1", 200, headers=AUTH),
)


@dataclass(frozen=True)
class Target:
    """The subject's req/s divided by ``baseline``'s on ``workload`` must be >= ``minimum``."""

    workload: str
    baseline: str
    minimum: float


TARGETS: tuple[Target, ...] = (
    # Clearly faster than FastAPI as its tutorial teaches it (what most of its users run)...
    Target("hello", "fastapi-tutorial", 1.2),
    Target("process_valid", "fastapi-tutorial", 1.2),
    Target("process_invalid", "fastapi-tutorial", 1.2),
    # ...and than FastAPI on async SQLAlchemy...
    Target("hello", "fastapi-async", 1.2),
    Target("process_valid", "fastapi-async", 1.2),
    Target("get_user", "fastapi-async", 1.2),
    # ...and not far from hand-written code on the same stack.
    Target("hello", "starlette", 0.6),
    Target("process_valid", "starlette", 0.55),
    Target("process_invalid", "starlette", 0.5),
    Target("get_user", "starlette", 0.55),
)

# Multi-worker scaling of the subject: req/s with SCALING_WORKERS over req/s with one.
SCALING_WORKLOAD = "hello"
SCALING_WORKERS = 2
SCALING_MINIMUM = 1.7
