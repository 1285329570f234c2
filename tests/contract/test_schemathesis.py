"""Property-based tests of the whole spec against the in-process app, every check enabled.

Runs on a fresh, migrated SQLite database of its own, as two clients: every request goes
as ALICE, and Schemathesis' ``object_level_authorization`` check replays what ALICE
created as BOB (who must not see it); ``ignored_auth`` replays every 2xx without a key
and with a wrong one (both must be refused). Besides the per-operation tests, the
stateful test follows the spec's OpenAPI links (create -> get -> replace -> update ->
delete a user; process -> get a record).
"""

from __future__ import annotations

import atexit
import sqlite3
import tempfile
from contextlib import ExitStack
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from server import migrate
from server.app import create_app
from server.persistence.models import Base
from tests import identities
from tests.config import make_settings
from tests.contract import preparation
from tests.contract.preparation import no_forged_state, prepare, unique_idempotency_key
from tests.databases import sqlite_url
from tests.downstream import Downstream, running
from tests.identities import ADMIN, ALICE, BOB, Identity

WORKDIR = Path(tempfile.mkdtemp(prefix="schemathesis-"))
DATABASE = WORKDIR / "api.db"
migrate.upgrade(sqlite_url(DATABASE))
identities.seed(sqlite_url(DATABASE))
# Dispatches go to a real downstream on loopback, and nowhere else: the allow-list holds
# only its address, generated destinations point at it, and one is there from the start.
_stack = ExitStack()
atexit.register(_stack.close)
ECHO = _stack.enter_context(running(Downstream()))
preparation.DESTINATION_URL = ECHO.url_for("/ok")
identities.seed_destination(sqlite_url(DATABASE), "echo", preparation.DESTINATION_URL)
app = create_app(
    make_settings(sqlite_url(DATABASE), dispatch_allowed_hosts=[ECHO.url.split("//")[1]])
)


def as_clients(user: Identity, peer: Identity) -> SchemathesisConfig:
    """Requests go as ``user``; the object-level check replays them as ``peer``."""
    wfc = identities.write_schemathesis_auth(WORKDIR / f"auth-{user.name}.json", user, peer)
    return SchemathesisConfig.from_dict({"auth": {"wfc": wfc}})


CONFIG = as_clients(ALICE, BOB)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, config=CONFIG)
# Clients and destinations need the admin scope (ALICE gets 403): fuzzed as an admin too.
admin_schema = schemathesis.openapi.from_asgi(
    "/api/openapi.json", app, config=as_clients(ADMIN, BOB)
).include(tag=["clients", "destinations"])
for loaded in (schema, admin_schema):
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True
    )
load_all_checks()
ALL_CHECKS = CHECKS.get_all()
HYPOTHESIS = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@HYPOTHESIS
def test_api_conforms_to_spec(case: schemathesis.Case) -> None:
    prepare(case)
    case.call_and_validate(checks=ALL_CHECKS)


@admin_schema.parametrize()
@HYPOTHESIS
def test_admin_operations_conform_to_spec(case: schemathesis.Case) -> None:
    prepare(case)
    case.call_and_validate(checks=ALL_CHECKS)


# Every table, from the models (so a new one is emptied too), but what the run is seeded
# with: the clients the calls authenticate as, and the destination dispatches go to.
KEPT = {"api_clients", "destinations"}


class APIWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    def setup(self) -> None:
        # Each example starts from an empty database, so that Hypothesis can replay it.
        with sqlite3.connect(DATABASE) as connection:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name not in KEPT:
                    connection.execute(f"DELETE FROM {table.name}")
            connection.execute("DELETE FROM sqlite_sequence")

    def before_call(self, case: schemathesis.Case) -> None:
        unique_idempotency_key(case)
        no_forged_state(case)

    def validate_response(
        self, response: schemathesis.Response, case: schemathesis.Case, **kwargs: object
    ) -> None:
        # The recorder lets the object-level and use-after-free checks see earlier steps.
        case.validate_response(
            response, checks=ALL_CHECKS, recorder=self.recorder, transport_kwargs=kwargs or None
        )


TestAPIWorkflows = APIWorkflows.TestCase
TestAPIWorkflows.settings = settings(
    max_examples=60,
    stateful_step_count=8,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
