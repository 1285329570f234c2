"""Pure functions and settings, without HTTP."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import AliasChoices, ValidationError

from server.errors import ValidationFailed
from server.http.problems import InvalidEncoding, MalformedJson, problem_response
from server.ids import new_id
from server.security import ClientAddress
from server.services.processing import process_record
from server.settings import PLACEHOLDER_SECRET, Settings
from server.validation import JsonBodySchema, _ParameterSchema, parse_json, split_media_type
from tests.config import TEST_SECRET


class TestProcessRecord:
    def test_doubles_quantity_and_keeps_ids(self) -> None:
        assert process_record(user_id=3, item_id=4, quantity=5) == {
            "user_id": 3,
            "item_id": 4,
            "quantity": 10,
        }


class TestSplitMediaType:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("application/json", ("application/json", None)),
            ("Application/JSON; charset=UTF-8", ("application/json", "utf-8")),
            ('application/json;charset="utf-8"', ("application/json", "utf-8")),
            ("application/json; q=1; charset=latin-1", ("application/json", "latin-1")),
        ],
    )
    def test_parses(self, header: str, expected: tuple[str, str | None]) -> None:
        assert split_media_type(header) == expected


class TestParseJson:
    def test_valid(self) -> None:
        assert parse_json(b'{"a": [1, 2]}') == {"a": [1, 2]}

    def test_bad_utf8_is_an_encoding_problem(self) -> None:
        with pytest.raises(InvalidEncoding):
            parse_json(b'"\xff"')

    def test_bad_syntax_is_a_json_problem(self) -> None:
        with pytest.raises(MalformedJson):
            parse_json(b"{'a': 1}")


class TestJsonBodySchema:
    SCHEMA: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["n"],
        "properties": {
            "n": {"type": "integer", "minimum": 1},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}},
            "note": {"type": "string", "nullable": True},
        },
    }

    def check(self, body: bytes) -> object:
        return JsonBodySchema(self.SCHEMA, required=True, nullable=False).check(body)

    def test_valid_body_is_returned(self) -> None:
        assert self.check(b'{"n": 1, "note": null}') == {"n": 1, "note": None}

    def test_nested_paths_are_dotted(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            self.check(b'{"n": 1, "tags": ["ok", "toolong"]}')
        assert caught.value.errors == [
            {"field": "tags.1", "message": "must be at most 3 characters long"}
        ]

    def test_values_are_never_echoed(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            self.check(b'{"n": "' + b"A" * 100_000 + b'"}')
        assert "AAAA" not in str(caught.value.detail)

    def test_errors_are_capped(self) -> None:
        body = b"{" + b",".join(b'"k%d": 1' % i for i in range(500)) + b', "n": 1}'
        with pytest.raises(ValidationFailed) as caught:
            self.check(body)
        assert len(caught.value.errors) == 20


class TestProblemResponse:
    def test_long_detail_is_cut(self) -> None:
        response = problem_response(status=400, detail="x" * 10_000)
        assert len(response.body) < 500
        assert response.media_type == "application/problem+json"


class TestSettings:
    def test_reads_prefixed_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("APP_MAX_BODY_BYTES", "2048")
        monkeypatch.setenv("APP_ENVIRONMENT", "production")
        monkeypatch.setenv("APP_SECRET_KEY", TEST_SECRET)
        settings = Settings()
        assert settings.max_body_bytes == 2048
        assert settings.response_validation is False

    @pytest.mark.parametrize("environment", ["test", "production"])
    @pytest.mark.parametrize(
        "secret", [None, PLACEHOLDER_SECRET, "short-secret"], ids=["unset", "placeholder", "short"]
    )
    def test_refuses_unsafe_secret_outside_development(
        self, environment: str, secret: str | None
    ) -> None:
        with pytest.raises(ValidationError, match="APP_SECRET_KEY must be set"):
            Settings(environment=environment, secret_key=secret)

    def test_development_accepts_the_placeholder(self) -> None:
        assert Settings(secret_key=PLACEHOLDER_SECRET).secret() == PLACEHOLDER_SECRET

    def test_rs256_needs_a_key_pair(self) -> None:
        with pytest.raises(ValidationError, match="RS256 needs"):
            Settings(jwt_algorithm="RS256")

    @pytest.mark.parametrize("field", ["rate_limit", "rate_limit_anonymous", "rate_limit_token"])
    def test_refuses_a_malformed_rate_limit(self, field: str) -> None:
        with pytest.raises(ValidationError, match="is not a rate limit"):
            Settings(**{field: "lots"})

    def test_response_validation_defaults_on_outside_production(self) -> None:
        assert Settings(environment="development").response_validation is True

    def test_secret_without_a_key_is_random_but_stable(self) -> None:
        settings, other = Settings(), Settings()
        assert settings.secret() == settings.secret()
        assert settings.secret() != other.secret()
        assert Settings(secret_key="s3cret").secret() == "s3cret"

    def test_rejects_nonsense(self) -> None:
        with pytest.raises(ValidationError):
            Settings(max_body_bytes=0)


class TestClientAddress:
    @staticmethod
    def scope(peer: str, *forwarded: str) -> dict[str, Any]:
        headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
        return {"client": (peer, 40000), "headers": headers}

    @pytest.mark.parametrize(
        ("trusted", "peer", "forwarded", "address"),
        [
            pytest.param(None, "127.0.0.1", ["203.0.113.9"], "127.0.0.1", id="off"),
            pytest.param(
                ["127.0.0.1"],
                "198.51.100.7",
                ["203.0.113.9"],
                "198.51.100.7",
                id="peer-not-a-proxy",
            ),
            pytest.param(["127.0.0.1"], "127.0.0.1", ["203.0.113.9"], "203.0.113.9", id="one-hop"),
            pytest.param(["127.0.0.1"], "127.0.0.1", [], "127.0.0.1", id="no-header"),
            # A client's own X-Forwarded-For comes first; only the proxy's last entry counts.
            pytest.param(
                ["127.0.0.1"],
                "127.0.0.1",
                ["1.1.1.1, 203.0.113.9"],
                "203.0.113.9",
                id="forged-prefix",
            ),
            pytest.param(
                ["127.0.0.1", "10.0.0.0/8"],
                "127.0.0.1",
                ["203.0.113.9, 10.1.2.3"],
                "203.0.113.9",
                id="two-proxies",
            ),
            pytest.param(
                ["127.0.0.1"],
                "127.0.0.1",
                ["203.0.113.9", "10.1.2.3"],
                "10.1.2.3",
                id="two-headers",
            ),
            pytest.param(["::1"], "::1", ["2001:db8::1"], "2001:db8::1", id="ipv6"),
        ],
    )
    def test_believes_only_trusted_proxies(
        self, trusted: list[str] | None, peer: str, forwarded: list[str], address: str
    ) -> None:
        assert ClientAddress(trusted)(self.scope(peer, *forwarded)) == address

    def test_bad_networks_are_refused_at_start(self) -> None:
        with pytest.raises(ValueError, match="not an IP address or network"):
            Settings(trusted_proxies=["10.0.0.0/33"])


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readmes_table(name: str) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    alias = Settings.model_fields[name].validation_alias
    names = alias.choices if isinstance(alias, AliasChoices) else [f"APP_{name.upper()}"]
    assert f"`{names[0]}`" in readme


class TestNewId:
    def test_ids_are_32_hex_digits_distinct_and_ordered_by_time(self) -> None:
        ids = [new_id() for _ in range(2000)]
        assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
        assert len(set(ids)) == len(ids)
        # Time first: an id made a millisecond later sorts after every earlier one, so
        # keyed rows go in at the end of their index.
        earlier = max(ids)
        time.sleep(0.002)
        assert new_id() > earlier

    def test_a_forked_process_makes_other_ids_than_its_parent(self) -> None:
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the child: its next ids, to the parent
            os.write(write, " ".join(new_id()[12:] for _ in range(4)).encode())
            os._exit(0)
        os.close(write)
        ours = {new_id()[12:] for _ in range(4)}
        with os.fdopen(read) as pipe:
            theirs = set(pipe.read().split())
        os.waitpid(child, 0)
        assert len(theirs) == 4 and not ours & theirs

    def test_a_longer_id_has_more_random_digits_after_the_same_time(self) -> None:
        long = new_id(40)
        assert len(long) == 40 and int(long, 16) >= 0
        assert long[:12] <= new_id()[:12]  # the same millisecond clock leads both
        assert len({new_id(40)[12:] for _ in range(1000)}) == 1000
        assert len(new_id(21)) == 21
        with pytest.raises(ValueError, match="at least 20"):
            new_id(12)


def _parameter_schemas() -> list[tuple[str, dict[str, Any]]]:
    from connexion.spec import Specification

    spec = Specification.load(Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml")
    found: dict[str, dict[str, Any]] = {}
    for path in spec["paths"].values():
        for operation in path.values():
            listed = operation if isinstance(operation, list) else operation.get("parameters", [])
            for parameter in listed:
                found[f"{parameter['in']}:{parameter['name']}"] = parameter["schema"]
    return sorted(found.items())


# Values a caller may send in a parameter, good and bad: every kind the parsers hand over.
PROBES: list[Any] = [
    None, True, 0, 1, -1, 20, 101, 150, 151, 2**31 - 1, 2**31, 1.5, "", " ", "1", "a", "abc\n",
    "a\u0000b", "\u00e9", "x" * 41, "x" * 256, "x" * 1001, "c_abc", "c_", "dsp_" + "a" * 32,
    "dsp_" + "A" * 32, '"1"', 'W/"1"', "*", '"1", "2"', ', "1"', "created_at", "-name",
    "pending", "billing", "billing.", "order-1042", "respond-async", "a.b", ".a.b", [], ["a"],
]  # fmt: skip


@pytest.mark.parametrize(("name", "schema"), _parameter_schemas())
def test_the_fast_parameter_check_never_passes_what_jsonschema_refuses(
    name: str, schema: dict[str, Any]
) -> None:
    """jsonschema-rs only lets a valid value through quicker (``validation._ParameterSchema``):
    whatever it passes, jsonschema, whose verdict counts, passes too."""
    compiled = _ParameterSchema(schema)
    assert compiled.fast is not None, name  # every schema of the spec takes the fast path
    probes = [*PROBES, schema.get("example"), *schema.get("enum", []), b"x", object()]
    assert [v for v in probes if compiled.passes(v) and not compiled.full.is_valid(v)] == [], name
