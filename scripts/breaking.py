"""The breaking-change gate behind ``make breaking``.

A release is the commit that sets ``info.version`` in ``spec/openapi.yaml``. Two rules hold:

* while the version stays the same, the spec may only grow compatibly: the spec in the work
  tree is compared with the spec of the commit that released its version;
* a commit that changes the version is compared with the last spec of the version before,
  and may break it only by raising the major.

Before 1.0.0 nothing is promised (SemVer §4): a 0.x spec's breaks are reported, not failed.

A change is breaking when a client written against the old spec can fail against the new
one. What clients *send* (parameters, request bodies) may only be accepted more widely;
what they *receive* (answers, their headers and bodies) may only be narrowed. Compared:
operations, parameters (new required ones, removals, their schemas), request bodies and
their media types, success statuses, answer headers and bodies, every schema keyword that
constrains a value (type, nullable, enum, bounds, lengths, pattern, format, required,
properties, additionalProperties, items, allOf/anyOf/oneOf), security requirements, OAuth2
scopes and the server URLs.

Why our own: oasdiff and ``@pb33f/openapi-changes`` download a binary when installed, which
fails on the machines this is built on; ``@useoptic/optic`` 1.0.9 crashes on start under
Node 20; ``openapi-diff`` 0.24.1 sees no parameter changes at all and no narrowed enum.

Usage: ``python -m scripts.breaking [--base REV|FILE] [SPEC]``. With ``--base``, SPEC is
compared with that revision's spec (or that file), under the major rule. Exit status 1
when a breaking change is not allowed, 2 when the input cannot be read.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SPEC = Path("spec/openapi.yaml")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# (keyword, True when a larger value is the tighter one)
LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties")
EXCLUSIVE = ("exclusiveMinimum", "exclusiveMaximum")
RULES = ("pattern", "format", "multipleOf")
# Keywords that say something about a value without constraining it.
WORDS = {"description", "title", "example", "examples", "externalDocs", "deprecated", "xml"}
# format changes that accept more: old -> new
WIDER_FORMATS = {("int32", "int64"), ("float", "double")}
# a parameter's default style and explode, by where it goes (OpenAPI 3.0 §4.7.12.2)
DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}

Schema = Mapping[str, Any]
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, five times faster, where built


def load(text: str) -> dict[str, Any]:
    loaded = yaml.load(text, Loader=Loader)
    if not isinstance(loaded, dict):
        raise ValueError("a spec is a YAML mapping")
    return loaded


@dataclass(frozen=True)
class Break:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class Compare:
    """The breaking changes from one parsed spec to another."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = old, new
        self._open: set[tuple[int, int, bool]] = set()  # schemas being compared, against cycles
        self._flattening: set[int] = set()

    def breaks(self) -> list[Break]:
        return list(self._document())

    # -- references ------------------------------------------------------------------

    @staticmethod
    def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
        hops = 0
        while isinstance(node, Mapping) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/") or hops > 32:
                raise ValueError(f"cannot follow $ref {ref!r}")
            target: Any = doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                try:
                    target = target[int(part) if isinstance(target, list) else part]
                except (KeyError, IndexError, ValueError, TypeError):
                    raise ValueError(f"$ref {ref!r} points at nothing") from None
            node, hops = target, hops + 1
        return node

    def _pair(self, old: Any, new: Any) -> tuple[Any, Any]:
        return self._resolve(self.old, old), self._resolve(self.new, new)

    def _unwrapped(self, doc: Mapping[str, Any], schema: Any) -> Any:
        """``{allOf: [X]}`` (with at most words beside it) is X."""
        while (
            isinstance(schema, Mapping)
            and len(schema.get("allOf") or []) == 1
            and set(schema) <= {"allOf", *WORDS}
        ):
            schema = self._resolve(doc, schema["allOf"][0])
        return schema

    # -- the document ----------------------------------------------------------------

    def _document(self) -> Iterator[Break]:
        old_servers = [s.get("url") for s in self.old.get("servers", [])]
        new_servers = [s.get("url") for s in self.new.get("servers", [])]
        for url in old_servers:
            if url not in new_servers:
                yield Break("servers", f"server {url} removed")
        yield from self._schemes()
        old_ops, new_ops = dict(self._operations(self.old)), dict(self._operations(self.new))
        for key, (path, *_) in old_ops.items():
            if key not in new_ops:
                yield Break(f"{key[0].upper()} {path}", "operation removed")
                continue
            yield from self._operation(f"{key[0].upper()} {path}", old_ops[key], new_ops[key])

    @staticmethod
    def _operations(
        doc: Mapping[str, Any],
    ) -> Iterator[tuple[tuple[str, str], tuple[str, Any, Any]]]:
        for path, item in (doc.get("paths") or {}).items():
            # /users/{id} and /users/{user_id} are the same address to a client.
            shape = re.sub(r"\{[^}]*\}", "{}", path)
            for method in METHODS:
                if method in item:
                    yield (method, shape), (path, item, item[method])

    def _schemes(self) -> Iterator[Break]:
        old = (self.old.get("components") or {}).get("securitySchemes") or {}
        new = (self.new.get("components") or {}).get("securitySchemes") or {}
        for name, old_scheme in old.items():
            where = f"securitySchemes.{name}"
            if name not in new:
                yield Break(where, "security scheme removed")
                continue
            old_scheme, new_scheme = self._pair(old_scheme, new[name])
            for key in ("type", "scheme", "in", "name", "bearerFormat", "openIdConnectUrl"):
                before, after = old_scheme.get(key), new_scheme.get(key)
                if key == "scheme" or (key == "name" and old_scheme.get("in") == "header"):
                    before, after = str(before).lower(), str(after).lower()  # case-insensitive
                if before != after:
                    yield Break(
                        where,
                        f"{key} changed from {old_scheme.get(key)!r} to {new_scheme.get(key)!r}",
                    )
            new_flows = new_scheme.get("flows") or {}
            for flow, old_flow in (old_scheme.get("flows") or {}).items():
                new_flow = new_flows.get(flow)
                if new_flow is None:
                    yield Break(where, f"OAuth2 flow {flow} removed")
                    continue
                for key in ("tokenUrl", "authorizationUrl"):
                    if old_flow.get(key) != new_flow.get(key):
                        yield Break(where, f"{flow} {key} changed")
                for scope in old_flow.get("scopes") or {}:
                    if scope not in (new_flow.get("scopes") or {}):
                        yield Break(where, f"scope {scope} removed")

    def _operation(
        self, where: str, old: tuple[str, Any, Any], new: tuple[str, Any, Any]
    ) -> Iterator[Break]:
        (old_path, old_item, old_op), (new_path, new_item, new_op) = old, new
        yield from self._security(where, old_op, new_op)
        old_params = self._parameters(self.old, old_path, old_item, old_op)
        new_params = self._parameters(self.new, new_path, new_item, new_op)
        for key, old_param in old_params.items():
            at = f"{where} {key[0]} parameter {old_param['name']}"
            new_param = new_params.get(key)
            if new_param is None:
                yield Break(at, "parameter removed")
                continue
            if new_param.get("required") and not old_param.get("required"):
                yield Break(at, "parameter is now required")
            for key_, before, after in zip(
                ("style", "explode"),
                _serialisation(old_param),
                _serialisation(new_param),
                strict=True,
            ):
                if before != after:
                    yield Break(at, f"{key_} changed from {before!r} to {after!r}")
            old_schema, new_schema = self._pair(old_param.get("schema"), new_param.get("schema"))
            old_default = (old_schema or {}).get("default")
            new_default = (new_schema or {}).get("default")
            if old_default is not None and old_default != new_default:
                # A client that leaves it out now asks for something else.
                yield Break(at, f"default changed from {old_default!r} to {new_default!r}")
            yield from self._schema(at, old_schema, new_schema, sent=True)
        for key, new_param in new_params.items():
            if key not in old_params and new_param.get("required"):
                yield Break(
                    f"{where} {key[0]} parameter {new_param['name']}", "new required parameter"
                )
        yield from self._request_body(where, old_op.get("requestBody"), new_op.get("requestBody"))
        yield from self._responses(
            where, old_op.get("responses") or {}, new_op.get("responses") or {}
        )

    def _security(self, where: str, old_op: Any, new_op: Any) -> Iterator[Break]:
        old_reqs = old_op.get("security", self.old.get("security", []))
        new_reqs = new_op.get("security", self.new.get("security", []))
        if not old_reqs and not new_reqs:
            return

        def covers(new_req: Mapping[str, list[str]], old_req: Mapping[str, list[str]]) -> bool:
            # A client that met old_req meets new_req when new_req asks for nothing more.
            return all(
                name in old_req and set(scopes) <= set(old_req[name])
                for name, scopes in new_req.items()
            )

        for old_req in old_reqs or [{}]:
            if not any(covers(new_req, old_req) for new_req in new_reqs or [{}]):
                shown = (
                    " + ".join(f"{n}{sorted(s) if s else ''}" for n, s in old_req.items())
                    or "no credential"
                )
                yield Break(f"{where} security", f"a caller with {shown} is no longer let in")

    def _parameters(
        self, doc: Mapping[str, Any], path: str, item: Any, op: Any
    ) -> dict[tuple[str, str], Any]:
        """An operation's parameters by where they go: a path parameter by its place in the
        path (a client fills it in by position), a header by its name in lower case."""
        places = {name: f"#{index}" for index, name in enumerate(re.findall(r"\{([^}]*)\}", path))}
        found: dict[tuple[str, str], Any] = {}
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            param = self._resolve(doc, raw)
            name = param["name"]
            key = (
                places.get(name, name)
                if param["in"] == "path"
                else name.lower()
                if param["in"] == "header"
                else name
            )
            found[(param["in"], key)] = param
        return found

    def _request_body(self, where: str, old: Any, new: Any) -> Iterator[Break]:
        old, new = self._pair(old, new)
        at = f"{where} request body"
        if old is None:
            if new is not None and new.get("required"):
                yield Break(at, "a request body is now required")
            return
        if new is None:
            yield Break(at, "request body removed")
            return
        if new.get("required") and not old.get("required"):
            yield Break(at, "the request body is now required")
        yield from self._content(at, old.get("content") or {}, new.get("content") or {}, sent=True)

    def _responses(
        self, where: str, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> Iterator[Break]:
        new = {str(status).upper(): answer for status, answer in new.items()}
        for status, old_answer in old.items():
            status = str(status).upper()
            at = f"{where} {status}"
            # 2XX answers any 2xx; a 201 still answered under a new 2XX is kept.
            kept = (
                status if status in new else f"{status[0]}XX" if f"{status[0]}XX" in new else None
            )
            if kept is None and status.endswith("XX"):
                kept = next((code for code in new if code[0] == status[0]), None)
            if kept is None:
                if status[0] in "23":
                    yield Break(at, "answer removed")
                continue
            old_answer, new_answer = self._pair(old_answer, new[kept])
            new_headers = {k.lower(): v for k, v in (new_answer.get("headers") or {}).items()}
            for name, old_header in (old_answer.get("headers") or {}).items():
                new_header = new_headers.get(name.lower())
                if new_header is None:
                    yield Break(f"{at} header {name}", "header removed")
                    continue
                old_header, new_header = self._pair(old_header, new_header)
                if old_header.get("required") and not new_header.get("required"):
                    yield Break(f"{at} header {name}", "may now be missing")
                yield from self._schema(
                    f"{at} header {name}",
                    old_header.get("schema"),
                    new_header.get("schema"),
                    sent=False,
                )
            yield from self._content(
                at, old_answer.get("content") or {}, new_answer.get("content") or {}, sent=False
            )

    def _content(
        self, where: str, old: Mapping[str, Any], new: Mapping[str, Any], *, sent: bool
    ) -> Iterator[Break]:
        for media, old_media in old.items():
            if media not in new:
                yield Break(where, f"media type {media} removed")
                continue
            yield from self._schema(
                f"{where} {media}", old_media.get("schema"), new[media].get("schema"), sent=sent
            )

    # -- schemas ---------------------------------------------------------------------

    def _schema(self, where: str, old: Any, new: Any, *, sent: bool) -> Iterator[Break]:
        """What changed for values a client sends (``sent``) or receives, in this schema."""
        old, new = self._pair(old, new)
        old, new = self._unwrapped(self.old, old), self._unwrapped(self.new, new)
        if old is None or new is None:
            if old is None and new is not None and sent:
                yield Break(where, "a schema now constrains what was free")
            elif new is None and old is not None and not sent:
                yield Break(where, "no longer described: anything may come")
            return
        key = (id(old), id(new), sent)
        if key in self._open:
            return
        self._open.add(key)
        try:
            yield from self._keywords(where, old, new, sent)
        finally:
            self._open.discard(key)

    def _keywords(self, where: str, old: Schema, new: Schema, sent: bool) -> Iterator[Break]:
        # sent: the new schema must accept all the old one did; received: the new one may
        # produce nothing the old one could not.
        narrower = (lambda change: change) if sent else (lambda change: not change)

        old_type, new_type = old.get("type"), new.get("type")
        # number takes every integer: integer -> number only widens.
        widened = (old_type, new_type) == (("integer", "number") if sent else ("number", "integer"))
        if old_type and new_type and old_type != new_type and not widened:
            yield Break(where, f"type changed from {old_type} to {new_type}")
        elif bool(new_type) != bool(old_type) and narrower(bool(new_type)):
            yield Break(where, f"type {'added' if new_type else 'removed'}")
        old_null, new_null = bool(old.get("nullable")), bool(new.get("nullable"))
        if old_null != new_null and narrower(old_null):
            yield Break(where, "null no longer accepted" if sent else "may now be null")

        yield from self._enum(where, old.get("enum"), new.get("enum"), sent)
        for keyword in (*LOWER_BOUNDS, *UPPER_BOUNDS):
            yield from self._bound(where, keyword, old.get(keyword), new.get(keyword), sent)
        for keyword in EXCLUSIVE:
            if bool(old.get(keyword)) != bool(new.get(keyword)) and narrower(
                bool(new.get(keyword))
            ):
                yield Break(where, f"{keyword} {'set' if new.get(keyword) else 'dropped'}")
        if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")) and narrower(
            bool(new.get("uniqueItems"))
        ):
            yield Break(where, f"uniqueItems {'set' if new.get('uniqueItems') else 'dropped'}")
        for keyword in RULES:
            old_rule, new_rule = old.get(keyword), new.get(keyword)
            # sent: a rule added or changed refuses values; received: one dropped or
            # changed lets new values out.
            if old_rule == new_rule or (new_rule if sent else old_rule) is None:
                continue
            if keyword == "format" and (
                (old_rule, new_rule) in WIDER_FORMATS
                if sent
                else (new_rule, old_rule) in WIDER_FORMATS
            ):
                continue
            wider, narrower_rule = (new_rule, old_rule) if sent else (old_rule, new_rule)
            if keyword == "pattern" and _alternative_of(wider, narrower_rule):
                continue
            how = "changed" if None not in (old_rule, new_rule) else "added" if sent else "dropped"
            yield Break(where, f"{keyword} {how}: {_short(old_rule)} -> {_short(new_rule)}")

        yield from self._object(where, old, new, sent)
        if "items" in old or "items" in new:
            yield from self._schema(f"{where}[]", old.get("items"), new.get("items"), sent=sent)
        yield from self._compositions(where, old, new, sent)

    @staticmethod
    def _enum(where: str, old: Any, new: Any, sent: bool) -> Iterator[Break]:
        if sent and new is not None:
            lost = [v for v in old if v not in new] if old is not None else None
            if lost is None:
                yield Break(where, "now limited to an enum")
            elif lost:
                yield Break(where, f"no longer accepts {', '.join(map(repr, lost))}")
        elif not sent and old is not None:
            gained = [v for v in new if v not in old] if new is not None else None
            if gained is None:
                yield Break(where, "no longer limited to an enum")
            elif gained:
                yield Break(where, f"may now be {', '.join(map(repr, gained))}")

    @staticmethod
    def _bound(where: str, keyword: str, old: Any, new: Any, sent: bool) -> Iterator[Break]:
        if old == new:
            return
        larger_is_tighter = keyword in LOWER_BOUNDS
        if old is None:
            tighter = True
        elif new is None:
            tighter = False
        else:
            tighter = (new > old) == larger_is_tighter
        if tighter == sent:
            how = "added" if old is None else "dropped" if new is None else "changed"
            yield Break(where, f"{keyword} {how}: {old} -> {new}")

    def _fields(self, doc: Mapping[str, Any], schema: Schema) -> tuple[dict[str, Any], set[str]]:
        """The properties and required names of an object, its allOf parts' included: an
        object written as ``allOf: [Base, {...}]`` has the same fields flattened."""
        props, required = dict(schema.get("properties") or {}), set(schema.get("required") or [])
        for part in schema.get("allOf") or []:
            part = self._resolve(doc, part)
            if isinstance(part, Mapping) and id(part) not in self._flattening:
                self._flattening.add(id(part))
                try:
                    more, needed = self._fields(doc, part)
                finally:
                    self._flattening.discard(id(part))
                props = {**more, **props}
                required |= needed
        return props, required

    def _object(self, where: str, old: Schema, new: Schema, sent: bool) -> Iterator[Break]:
        (old_props, old_req), (new_props, new_req) = (
            self._fields(self.old, old),
            self._fields(self.new, new),
        )
        # A read-only property is never sent, a write-only one never received.
        hidden = "readOnly" if sent else "writeOnly"

        def is_hidden(doc: Mapping[str, Any], props: Mapping[str, Any], name: str) -> bool:
            return name in props and bool(self._resolve(doc, props[name]).get(hidden))

        def skipped(name: str) -> bool:  # hidden before and after: no client sees it
            return is_hidden(self.old, old_props, name) and is_hidden(self.new, new_props, name)

        for name in old_props:
            if name in new_props and is_hidden(self.new, new_props, name):
                if not is_hidden(self.old, old_props, name):
                    what = (
                        "now read-only: no longer taken"
                        if sent
                        else "now write-only: no longer answered"
                    )
                    yield Break(f"{where}.{name}", what)
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if sent:
            for name in sorted(new_req - old_req):
                if not skipped(name) and not is_hidden(self.new, new_props, name):
                    yield Break(
                        f"{where}.{name}",
                        "now required" if name in old_props else "new required property",
                    )
            closed = new_extra is False
            for name in old_props:
                if name not in new_props and closed and not is_hidden(self.old, old_props, name):
                    yield Break(f"{where}.{name}", "property no longer accepted")
            if closed and old_extra is not False:
                yield Break(where, "other properties no longer accepted")
            elif isinstance(new_extra, Mapping) and old_extra in (None, True):
                yield Break(where, "other properties now constrained")
        else:
            for name in sorted(old_req - new_req):
                if not skipped(name) and not is_hidden(self.old, old_props, name):
                    yield Break(
                        f"{where}.{name}",
                        "may now be missing" if name in new_props else "property removed",
                    )
            for name in old_props:
                if (
                    name not in new_props
                    and name not in old_req
                    and not is_hidden(self.old, old_props, name)
                ):
                    yield Break(f"{where}.{name}", "property removed")
            if isinstance(old_extra, Mapping) and new_extra in (None, True):
                yield Break(where, "other properties no longer described")
        for name, old_prop in old_props.items():
            if name in new_props and not skipped(name):
                yield from self._schema(f"{where}.{name}", old_prop, new_props[name], sent=sent)
        if isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            yield from self._schema(f"{where}.*", old_extra, new_extra, sent=sent)

    def _quiet(self, where: str, old: Any, new: Any, sent: bool) -> bool:
        """Whether ``new`` holds to ``old`` (no break between them), asked without reporting."""
        return not any(self._schema(where, old, new, sent=sent))

    def _compositions(self, where: str, old: Schema, new: Schema, sent: bool) -> Iterator[Break]:
        """Parts are matched by what they say, not by their place: a reordering is no break.

        anyOf/oneOf: what was sent must still fit some new part; what is received must fit
        some old part. allOf: a new part must follow from some old one when sent; an old
        part must still follow from some new one when received.
        """
        for keyword in ("allOf", "anyOf", "oneOf"):
            old_parts, new_parts = old.get(keyword) or [], new.get(keyword) or []
            if not old_parts and not new_parts:
                continue
            at = f"{where}<{keyword}>"
            if keyword == "allOf":  # a side without parts is one part: itself
                old_parts = old_parts or [{k: v for k, v in old.items() if k != "allOf"}]
                new_parts = new_parts or [{k: v for k, v in new.items() if k != "allOf"}]
            if keyword != "allOf" and (not old_parts or not new_parts):
                if (not old_parts) == sent:  # a choice added where there was none: narrower
                    yield Break(at, f"{keyword} {'added' if not old_parts else 'dropped'}")
                continue
            # (each of these parts, must be met by one of those, compared from -> to)
            if keyword == "allOf":
                checks = [(new_parts, old_parts, True)] if sent else [(old_parts, new_parts, False)]
            else:
                checks = [(old_parts, new_parts, False)] if sent else [(new_parts, old_parts, True)]
            for parts, candidates, reverse in checks:
                for index, part in enumerate(parts):
                    if any(
                        self._quiet(at, candidate, part, sent)
                        if reverse
                        else self._quiet(at, part, candidate, sent)
                        for candidate in candidates
                    ):
                        continue
                    if len(old_parts) == len(
                        new_parts
                    ):  # say what changed in the part at its place
                        pair = (old_parts[index], new_parts[index])
                        yield from self._schema(f"{at}[{index}]", *pair, sent=sent)
                    else:
                        side = "new" if parts is new_parts else "old"
                        yield Break(at, f"the {side} part {index} has no counterpart")


def _alternative_of(wider: Any, pattern: Any) -> bool:
    """Whether ``wider`` is ``pattern|MORE``: a string that ``pattern`` finds, it finds too
    (``|`` binds loosest, so a valid pattern stays one whole branch of it)."""
    return isinstance(wider, str) and isinstance(pattern, str) and wider.startswith(pattern + "|")


def _short(value: Any, limit: int = 48) -> str:
    """A value as a line can quote it: a long pattern by its start."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _serialisation(param: Mapping[str, Any]) -> tuple[str, bool]:
    """A parameter's style and explode, defaults written out."""
    style = param.get("style", DEFAULT_STYLE.get(param.get("in", ""), "simple"))
    return style, param.get("explode", style == "form")


# -- releases ---------------------------------------------------------------------------


def major(version: str) -> int:
    match = re.match(r"v?(\d+)\.", str(version))
    if not match:
        raise ValueError(f"info.version {version!r} is not MAJOR.MINOR.PATCH")
    return int(match.group(1))


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def _in_repository(path: Path) -> str:
    """``path`` as git names it: relative to the top of the work tree."""
    top = Path(_git("rev-parse", "--show-toplevel").strip())
    return path.resolve().relative_to(top.resolve()).as_posix()


def spec_at(rev: str, path: Path = SPEC) -> dict[str, Any]:
    return load(_git("show", f"{rev}:{_in_repository(path)}"))


@dataclass(frozen=True)
class Baseline:
    """A spec to compare with, and whether breaking it needs a higher major."""

    name: str
    spec: dict[str, Any]
    needs_major: bool


class NoHistory(Exception):
    """The history the release rule needs is not there."""


def baselines(current: Mapping[str, Any], path: Path = SPEC) -> list[Baseline]:
    """The release of the current version, and the release of the version before it.

    Walking back from HEAD, the oldest commit of the newest run of commits with the current
    version is its release; the oldest commit of the run before, with another version, is
    the release of the version before. (Its last commit would let a break committed under
    it pass with a later minor bump.) With the version raised in the work tree only,
    there is no release of it yet.
    """
    version = current["info"]["version"]
    try:
        inside = _git("rev-parse", "--is-inside-work-tree").strip() == "true"
    except (subprocess.CalledProcessError, FileNotFoundError):
        inside = False
    if not inside:
        raise NoHistory("not a git work tree: no release to compare with (pass --base FILE)")
    if _git("rev-parse", "--is-shallow-repository").strip() == "true":
        try:  # a CI checkout is often one commit deep; the rule needs the releases
            _git("fetch", "--quiet", "--unshallow")
        except subprocess.CalledProcessError:
            print(
                "make breaking: warning: this clone is shallow and could not be deepened "
                "(git fetch --unshallow): the release may be older than the oldest commit "
                "here, and breaks since then go unseen",
                file=sys.stderr,
            )
    try:
        commits = _git("rev-list", "HEAD", "--", _in_repository(path)).split()
    except subprocess.CalledProcessError:
        commits = []  # no commit yet
    runs: list[tuple[str, str, dict[str, Any]]] = []  # newest first: version, oldest commit, spec
    for commit in commits:
        spec = spec_at(commit, path)
        seen = spec["info"]["version"]
        if runs and runs[-1][0] == seen:
            runs[-1] = (seen, commit, spec)  # the run goes back further
            continue
        if len(runs) == 2 or (len(runs) == 1 and runs[0][0] != version):
            break  # the run before the one we need has begun
        runs.append((seen, commit, spec))
    found: list[Baseline] = []
    for seen, commit, spec in runs:
        if seen == version:
            found.append(
                Baseline(f"the release of {seen} ({commit[:10]})", spec, needs_major=False)
            )
        else:
            found.append(
                Baseline(
                    f"the release of {seen}, the version before ({commit[:10]})",
                    spec,
                    needs_major=True,
                )
            )
    return found


def check(current: Mapping[str, Any], base: Baseline) -> tuple[list[Break], bool]:
    """The breaks from base to current, and whether they are allowed."""
    breaks = Compare(base.spec, current).breaks()
    now, before = major(current["info"]["version"]), major(base.spec["info"]["version"])
    allowed = now == 0 or (base.needs_major and now > before)
    return breaks, allowed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make breaking", description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", nargs="?", type=Path, default=SPEC)
    parser.add_argument(
        "--base", help="a git revision, or a spec file, to compare with instead of the last release"
    )
    args = parser.parse_args(argv)
    try:
        current = load(args.spec.read_text(encoding="utf-8"))
        if args.base is None:
            bases = baselines(current, args.spec)
        elif Path(args.base).is_file():
            bases = [
                Baseline(
                    args.base, load(Path(args.base).read_text(encoding="utf-8")), needs_major=True
                )
            ]
        elif Path(args.base).suffix in (".yaml", ".yml", ".json") or "/" in args.base:
            raise FileNotFoundError(f"--base {args.base}: no such file")
        else:
            bases = [Baseline(args.base, spec_at(args.base, args.spec), needs_major=True)]
        results = [(base, *check(current, base)) for base in bases]
    except NoHistory as exc:
        # Nothing to compare with is no pass: in CI (REQUIRE_SERVICES=1, as .ci/run sets it)
        # it fails; elsewhere (a source tarball, say) it is said and skipped.
        print(f"make breaking: {exc}", file=sys.stderr)
        return 2 if os.environ.get("REQUIRE_SERVICES") == "1" else 0
    except subprocess.CalledProcessError as exc:
        print(
            f"make breaking: cannot compare: git {' '.join(exc.cmd[1:])}: {exc.stderr.strip()}",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # a spec this cannot read is exit 2, never taken for a break
        print(f"make breaking: cannot compare: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if not bases:
        print(f"{args.spec} {current['info']['version']}: no earlier release to compare with")
    failed = False
    for base, breaks, allowed in results:
        if not breaks:
            print(f"{args.spec} {current['info']['version']}: no breaking change since {base.name}")
            continue
        if not allowed:
            verdict = "not allowed without a higher major in info.version"
        elif major(current["info"]["version"]) == 0:
            verdict = "allowed: a 0.x version promises nothing (SemVer 4)"
        else:
            verdict = "allowed: the major was raised"
        count = f"{len(breaks)} breaking change(s) since {base.name}"
        print(f"{args.spec} {current['info']['version']}: {count}, {verdict}")
        for found in breaks:
            print(f"  {found}")
        failed = failed or not allowed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
