"""Property-based tests of the whole spec against the in-process app, every check enabled.

Runs on a fresh, migrated SQLite database of its own. Besides the per-operation tests,
the stateful test follows the spec's OpenAPI links (create -> get -> replace -> update ->
delete a user; process -> get a record).
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from server import migrate
from server.app import create_app
from server.settings import Settings
from tests.contract.preparation import no_forged_state, prepare, unique_idempotency_key
from tests.databases import sqlite_url

DATABASE = Path(tempfile.mkdtemp(prefix="schemathesis-")) / "api.db"
migrate.upgrade(sqlite_url(DATABASE))
app = create_app(
    Settings(
        environment="test",
        validate_responses=True,
        database_url=sqlite_url(DATABASE),
        secret_key="schemathesis",
    )
)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
schema.config.generation.update(
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


class APIWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    def setup(self) -> None:
        # Each example starts from an empty database, so that Hypothesis can replay it.
        with sqlite3.connect(DATABASE) as connection:
            for table in ("users", "records", "idempotency_keys"):
                connection.execute(f"DELETE FROM {table}")
            connection.execute("DELETE FROM sqlite_sequence")

    def before_call(self, case: schemathesis.Case) -> None:
        unique_idempotency_key(case)
        no_forged_state(case)

    def validate_response(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
        case.validate_response(response, checks=ALL_CHECKS)


TestAPIWorkflows = APIWorkflows.TestCase
TestAPIWorkflows.settings = settings(
    max_examples=60,
    stateful_step_count=8,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
