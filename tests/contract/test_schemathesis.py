"""Property-based tests of the whole spec against the in-process app, every check enabled."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from server.app import create_app
from server.settings import Settings

app = create_app(Settings(environment="test", validate_responses=True))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True
)
load_all_checks()
ALL_CHECKS = CHECKS.get_all()


@schema.parametrize()
@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=ALL_CHECKS)
