"""The breaking-change gate (``make breaking``, ``scripts/breaking.py``): each deliberate
break of the real spec is caught, compatible growth is not, and the release rule follows
``info.version`` through git history."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import breaking

ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text(encoding="utf-8"))

Edit = Callable[[dict[str, Any]], None]


def param(spec: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        p for p in spec["paths"][path][method]["parameters"] if p.get("name") == name
    )
    return found


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][name]
    return found


def remove_user_field(spec: dict[str, Any]) -> None:
    user = schema(spec, "User")
    del user["properties"]["updated_at"]
    user["required"].remove("updated_at")


def narrow_sort(spec: dict[str, Any]) -> None:
    param(spec, "/users", "get", "sort")["schema"]["enum"].remove("-name")


def narrow_scope(spec: dict[str, Any]) -> None:
    schema(spec, "Scope")["enum"].remove("records:read")


def add_required_param(spec: dict[str, Any]) -> None:
    spec["paths"]["/users"]["get"]["parameters"].append(
        {"in": "query", "name": "tenant", "required": True, "schema": {"type": "string"}}
    )


def require_sort(spec: dict[str, Any]) -> None:
    param(spec, "/users", "get", "sort")["required"] = True


def remove_operation(spec: dict[str, Any]) -> None:
    del spec["paths"]["/records"]["get"]


def shorten_names(spec: dict[str, Any]) -> None:
    schema(spec, "UserInput")["properties"]["name"]["maxLength"] = 100


def require_a_scope(spec: dict[str, Any]) -> None:
    spec["paths"]["/records"]["get"]["security"][0]["OAuth2"].append("admin")


def require_a_credential(spec: dict[str, Any]) -> None:
    spec["paths"]["/hello"]["get"]["security"] = [{"ApiKeyAuth": []}]


def remove_success(spec: dict[str, Any]) -> None:
    del spec["paths"]["/users"]["post"]["responses"]["201"]


def remove_etag(spec: dict[str, Any]) -> None:
    del spec["paths"]["/users/{user_id}"]["get"]["responses"]["200"]["headers"]["ETag"]


def widen_circuit_state(spec: dict[str, Any]) -> None:
    schema(spec, "CircuitState")["properties"]["state"]["enum"].append("ajar")


def nullable_name(spec: dict[str, Any]) -> None:
    schema(spec, "User")["properties"]["name"]["nullable"] = True


def remove_oauth_scope(spec: dict[str, Any]) -> None:
    flows = spec["components"]["securitySchemes"]["OAuth2"]["flows"]
    del flows["clientCredentials"]["scopes"]["records:read"]


def change_server(spec: dict[str, Any]) -> None:
    spec["servers"][0]["url"] = "/v2"


def rewrite_cursor_pattern(spec: dict[str, Any]) -> None:
    spec["components"]["parameters"]["Cursor"]["schema"]["pattern"] = "^[A-Za-z0-9_.-]+$"


def prepend_to_cursor_pattern(spec: dict[str, Any]) -> None:
    cursor = spec["components"]["parameters"]["Cursor"]["schema"]
    cursor["pattern"] = "^x$|" + cursor["pattern"]  # not OLD|MORE: not proven wider


BREAKS: dict[str, tuple[Edit, str]] = {
    "a removed answer field": (
        remove_user_field,
        "GET /users/{} 200 application/json.updated_at: property removed",
    ),
    "a narrowed parameter enum": (
        narrow_sort,
        "GET /users query parameter sort: no longer accepts '-name'",
    ),
    "a narrowed body enum": (
        narrow_scope,
        "POST /clients request body application/json.scopes[]: no longer accepts",
    ),
    "a new required parameter": (
        add_required_param,
        "GET /users query parameter tenant: new required parameter",
    ),
    "an optional parameter made required": (
        require_sort,
        "GET /users query parameter sort: parameter is now required",
    ),
    "a removed operation": (remove_operation, "GET /records: operation removed"),
    "a shorter maxLength on what is sent": (
        shorten_names,
        "POST /users request body application/json.name: maxLength",
    ),
    "a new scope requirement": (
        require_a_scope,
        "GET /records security: a caller with OAuth2['records:read']",
    ),
    "a credential now required": (
        require_a_credential,
        "GET /hello security: a caller with no credential",
    ),
    "a removed success status": (remove_success, "POST /users 201: answer removed"),
    "a removed answer header": (remove_etag, "GET /users/{} 200 header ETag: header removed"),
    "a new enum value in an answer": (widen_circuit_state, "may now be 'ajar'"),
    "null in an answer": (
        nullable_name,
        "GET /users/{} 200 application/json.name: may now be null",
    ),
    "a removed OAuth2 scope": (
        remove_oauth_scope,
        "securitySchemes.OAuth2: scope records:read removed",
    ),
    "a new server URL": (change_server, "servers: server /api removed"),
    "a rewritten pattern on what is sent": (
        rewrite_cursor_pattern,
        "GET /users query parameter cursor: pattern changed",
    ),
    "an alternative before the pattern on what is sent": (
        prepend_to_cursor_pattern,
        "GET /users query parameter cursor: pattern changed",
    ),
}


def add_optional_param(spec: dict[str, Any]) -> None:
    spec["paths"]["/users"]["get"]["parameters"].append(
        {"in": "query", "name": "q", "schema": {"type": "string"}}
    )


def add_operation(spec: dict[str, Any]) -> None:
    spec["paths"]["/records"]["head"] = copy.deepcopy(spec["paths"]["/records"]["get"])


def add_answer_field(spec: dict[str, Any]) -> None:
    user = schema(spec, "User")
    user["properties"]["nickname"] = {"type": "string"}
    user["required"].append("nickname")


def add_optional_input(spec: dict[str, Any]) -> None:
    schema(spec, "UserInput")["properties"]["nickname"] = {"type": "string"}


def widen_sort(spec: dict[str, Any]) -> None:
    param(spec, "/users", "get", "sort")["schema"]["enum"].append("age")


def lengthen_names(spec: dict[str, Any]) -> None:
    schema(spec, "UserInput")["properties"]["name"]["maxLength"] = 400


def reword(spec: dict[str, Any]) -> None:
    spec["info"]["description"] = "Reworded."
    spec["paths"]["/users"]["get"]["description"] = "Reworded."


def add_client_error(spec: dict[str, Any]) -> None:
    spec["paths"]["/hello"]["get"]["responses"]["418"] = {"description": "A teapot."}


def rename_path_parameter(spec: dict[str, Any]) -> None:
    item = spec["paths"].pop("/records/{record_id}")
    for p in [
        *item.get("parameters", []),
        *(p for op in item.values() if isinstance(op, dict) for p in op.get("parameters", [])),
    ]:
        if p.get("name") == "record_id":
            p["name"] = "id"
    spec["paths"]["/records/{id}"] = item


def widen_cursor_pattern(spec: dict[str, Any]) -> None:
    cursor = spec["components"]["parameters"]["Cursor"]["schema"]
    cursor["pattern"] += "|^[.]?[A-Za-z0-9_-]+$"  # OLD|MORE accepts all OLD did


COMPATIBLE: dict[str, Edit] = {
    "a new optional parameter": add_optional_param,
    "a new operation": add_operation,
    "a new answer field": add_answer_field,
    "a new optional body field": add_optional_input,
    "a wider parameter enum": widen_sort,
    "a longer maxLength on what is sent": lengthen_names,
    "new descriptions": reword,
    "a new client-error status": add_client_error,
    "a renamed path parameter": rename_path_parameter,
    "a pattern widened by an alternative on what is sent": widen_cursor_pattern,
}


def changed(edit: Edit) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    edit(spec)
    return spec


def shown(spec: dict[str, Any]) -> list[str]:
    return [
        str(found).replace("{user_id}", "{}") for found in breaking.Compare(SPEC, spec).breaks()
    ]


def test_the_spec_does_not_break_itself() -> None:
    assert breaking.Compare(SPEC, copy.deepcopy(SPEC)).breaks() == []


@pytest.mark.parametrize("edit, expected", BREAKS.values(), ids=BREAKS.keys())
def test_a_deliberate_break_is_caught(edit: Edit, expected: str) -> None:
    found = shown(changed(edit))
    assert any(expected in line for line in found), found


@pytest.mark.parametrize("edit", COMPATIBLE.values(), ids=COMPATIBLE.keys())
def test_compatible_growth_is_not_a_break(edit: Edit) -> None:
    assert shown(changed(edit)) == []


# -- the release rule, through git --------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def write(repo: Path, spec: dict[str, Any], version: str) -> None:
    spec = copy.deepcopy(spec)
    spec["info"]["version"] = version
    (repo / "spec").mkdir(exist_ok=True)
    (repo / "spec" / "openapi.yaml").write_text(
        yaml.safe_dump(spec, sort_keys=False), encoding="utf-8"
    )


def released(repo: Path, spec: dict[str, Any], version: str) -> None:
    """A new repository whose first commit releases ``spec`` as ``version``."""
    repo.mkdir(exist_ok=True)
    git(repo, "init", "-q")
    write(repo, spec, version)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", f"release {version}")


def gate(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.chdir(repo)
    status = breaking.main([])
    return status, capsys.readouterr().out


def test_a_break_needs_a_higher_major_and_the_release_holds_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    released(tmp_path, SPEC, "1.0.0")
    assert gate(tmp_path, monkeypatch, capsys)[0] == 0

    # A compatible change may land under the same version, and under a new minor.
    write(tmp_path, changed(add_optional_param), "1.0.0")
    assert gate(tmp_path, monkeypatch, capsys)[0] == 0
    git(tmp_path, "commit", "-qam", "an optional parameter")

    # A break does not, not even with a new minor...
    write(tmp_path, changed(remove_user_field), "1.1.0")
    status, out = gate(tmp_path, monkeypatch, capsys)
    assert status == 1
    assert "updated_at: property removed" in out
    assert "not allowed without a higher major" in out

    # ...but with a new major it does.
    write(tmp_path, changed(remove_user_field), "2.0.0")
    status, out = gate(tmp_path, monkeypatch, capsys)
    assert status == 0, out
    assert "allowed: the major was raised" in out
    git(tmp_path, "commit", "-qam", "release 2.0.0")
    status, out = gate(tmp_path, monkeypatch, capsys)
    assert status == 0, out

    # Once 2.0.0 is released, breaking it again needs 3.0.0.
    broken_again = changed(remove_user_field)
    narrow_sort(broken_again)
    write(tmp_path, broken_again, "2.0.0")
    git(tmp_path, "commit", "-qam", "a quiet break")
    status, out = gate(tmp_path, monkeypatch, capsys)
    assert status == 1
    assert "no longer accepts '-name'" in out
    assert "since the release of 2.0.0" in out


def test_before_1_0_0_breaks_are_reported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    released(tmp_path, SPEC, "0.3.0")
    write(tmp_path, changed(remove_operation), "0.3.0")
    status, out = gate(tmp_path, monkeypatch, capsys)
    assert status == 0
    assert "GET /records: operation removed" in out
    assert "a 0.x version promises nothing" in out
    # 1.0.0 is compared with the last 0.x like any release, and allowed to break it.
    write(tmp_path, changed(remove_operation), "1.0.0")
    assert gate(tmp_path, monkeypatch, capsys)[0] == 0
    git(tmp_path, "commit", "-qam", "1.0.0")
    write(tmp_path, SPEC, "1.0.0")  # the operation back: growth, no break
    assert gate(tmp_path, monkeypatch, capsys)[0] == 0
    write(tmp_path, changed(remove_user_field), "1.0.0")
    assert gate(tmp_path, monkeypatch, capsys)[0] == 1


def test_an_explicit_base_and_unreadable_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, SPEC, "1.0.0")
    base = tmp_path / "base.yaml"
    base.write_text(
        (tmp_path / "spec" / "openapi.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    write(tmp_path, changed(add_required_param), "1.0.0")
    monkeypatch.chdir(tmp_path)
    assert breaking.main(["--base", str(base)]) == 1
    assert "tenant: new required parameter" in capsys.readouterr().out
    # Outside any git repository there is no release to compare with: said, and in CI
    # (REQUIRE_SERVICES=1) a failure, not a pass.
    monkeypatch.delenv("REQUIRE_SERVICES", raising=False)
    assert breaking.main([]) == 0
    assert "not a git work tree" in capsys.readouterr().err
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    assert breaking.main([]) == 2
    assert breaking.main(["--base", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    base.write_text("info: [", encoding="utf-8")
    assert breaking.main(["--base", str(base)]) == 2
    assert "cannot compare" in capsys.readouterr().err


# -- the cases an outside review found, on a small spec ------------------------------------


def tiny(request: dict[str, Any], answer: dict[str, Any], **param: Any) -> dict[str, Any]:
    """A spec with one operation: POST /x, this body, this answer, and a query parameter."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {
            "/x": {
                "post": {
                    "parameters": [
                        {"in": "query", "name": "q", "schema": {"type": "string"}, **param}
                    ],
                    "requestBody": {"content": {"application/json": {"schema": request}}},
                    "responses": {
                        200: {
                            "description": "ok",
                            "content": {"application/json": {"schema": answer}},
                        }
                    },
                }
            }
        },
    }


def schemaless(spec: dict[str, Any]) -> dict[str, Any]:
    del spec["paths"]["/x"]["post"]["responses"][200]["content"]["application/json"]["schema"]
    return spec


A = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
B = {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"]}
NUMBER = {"type": "integer", "format": "int32"}


def verdicts(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [str(found) for found in breaking.Compare(old, new).breaks()]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(tiny({"oneOf": [A, B]}, A), tiny({"oneOf": [B, A]}, A), id="oneOf-reordered"),
        pytest.param(tiny(A, A), tiny({"allOf": [A]}, {"allOf": [A]}), id="allOf-wrapped"),
        pytest.param(
            tiny(A, {"allOf": [A, B]}),
            tiny(
                A,
                {
                    "type": "object",
                    "properties": {**A["properties"], **B["properties"]},
                    "required": ["a", "b"],
                },
            ),
            id="allOf-flattened",
        ),
        pytest.param(
            tiny(NUMBER, A),
            tiny({"type": "integer", "format": "int64"}, A),
            id="int32-to-int64-sent",
        ),
        pytest.param(tiny(NUMBER, A), tiny({"type": "number"}, A), id="integer-to-number-sent"),
        pytest.param(
            tiny(A, A), tiny(A, A, style="form", explode=True), id="default-style-written-out"
        ),
        pytest.param(
            tiny(A, {"anyOf": [A, B]}), tiny(A, {"anyOf": [A]}), id="fewer-answer-choices"
        ),
        pytest.param(
            tiny(A, {"type": "string", "pattern": "^a$|^b$"}),
            tiny(A, {"type": "string", "pattern": "^a$"}),
            id="answer-pattern-alternative-dropped",
        ),
    ],
)
def test_equivalent_or_compatible_rewrites_are_no_break(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    assert verdicts(old, new) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            tiny({"oneOf": [A, B]}, A),
            tiny({"oneOf": [A, {**B, "maxProperties": 0}, {"type": "string"}]}, A),
            "no counterpart",
            id="oneOf-part-added-and-one-narrowed",
        ),
        pytest.param(
            tiny(A, {"anyOf": [A]}),
            tiny(A, {"anyOf": [A, B]}),
            "no counterpart",
            id="more-answer-choices",
        ),
        pytest.param(
            tiny({"type": "object"}, A),
            tiny({"type": "object", "additionalProperties": {"type": "integer"}}, A),
            "other properties now constrained",
            id="additionalProperties-schema-added-sent",
        ),
        pytest.param(
            tiny(A, A),
            tiny({**A, "properties": {"a": {"type": "string", "readOnly": True}}}, A),
            "now read-only",
            id="a-sent-field-made-read-only",
        ),
        pytest.param(
            tiny(A, A), schemaless(tiny(A, A)), "no longer described", id="answer-schema-dropped"
        ),
        pytest.param(
            tiny(A, A, schema={"type": "string", "default": "x"}),
            tiny(A, A, schema={"type": "string", "default": "y"}),
            "default changed",
            id="default-changed",
        ),
        pytest.param(
            tiny(NUMBER, NUMBER),
            tiny(NUMBER, {"type": "number"}),
            "type changed",
            id="integer-to-number-received",
        ),
        pytest.param(
            tiny(A, {"type": "string", "pattern": "^a$"}),
            tiny(A, {"type": "string", "pattern": "^a$|^b$"}),
            "pattern changed",
            id="answer-pattern-widened-by-an-alternative",
        ),
    ],
)
def test_breaks_an_outside_review_found(
    old: dict[str, Any], new: dict[str, Any], expected: str
) -> None:
    found = verdicts(old, new)
    assert any(expected in line for line in found), found


def test_a_break_then_a_minor_bump_is_still_a_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two commits: a break under 1.0.0, then 1.1.0. The baseline is the release of 1.0.0,
    not its last commit, which already holds the break."""
    released(tmp_path, SPEC, "1.0.0")
    write(tmp_path, changed(remove_user_field), "1.0.0")
    git(tmp_path, "commit", "-qam", "a quiet break")
    write(tmp_path, changed(remove_user_field), "1.1.0")
    git(tmp_path, "commit", "-qam", "1.1.0")
    status, out = gate(tmp_path, monkeypatch, capsys)
    assert status == 1, out
    assert "since the release of 1.0.0, the version before" in out


def test_a_shallow_clone_is_deepened_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    origin = tmp_path / "origin"
    released(origin, SPEC, "1.0.0")
    write(origin, changed(remove_user_field), "1.0.0")
    git(origin, "commit", "-qam", "a quiet break")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", "shallow")
    status, out = gate(tmp_path / "shallow", monkeypatch, capsys)
    assert status == 1, out  # one commit deep, HEAD would have passed for the release


def test_a_spec_it_cannot_read_is_exit_2_not_a_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base, new = tmp_path / "base.yaml", tmp_path / "new.yaml"
    base.write_text(yaml.safe_dump(tiny(A, A)), encoding="utf-8")
    new.write_text(yaml.safe_dump({**tiny(A, A), "servers": ["/api"]}), encoding="utf-8")
    assert breaking.main(["--base", str(base), str(new)]) == 2
    assert "cannot compare" in capsys.readouterr().err
