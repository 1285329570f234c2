"""Request validation against the spec, compiled once per operation instead of per request.

Connexion's ``RequestValidationMiddleware`` rebuilds its parameter validator, media-type
table and jsonschema validator on every request. This subclass builds them once, when the
operation is registered, and keeps Connexion's semantics (strict query parameters,
OpenAPI ``nullable``, formats). JSON bodies are parsed with orjson, validated, and the
parsed value is left in the ASGI scope under ``PARSED_BODY`` so the dispatcher never
parses twice. Validation errors name every offending field without echoing values back.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs
import orjson
from connexion.datastructures import MediaTypeDict
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.operations import AbstractOperation
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, ParameterValidator
from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import ValidationFailed
from server.http.problems import (
    FormValidationFailed,
    InvalidEncoding,
    MalformedJson,
    UnsupportedMediaType,
)
from server.http.scope import PARSED_BODY

logger = logging.getLogger(__name__)

"""Scope key under which a validated JSON body is handed to the dispatcher."""

MAX_REPORTED_ERRORS = 20
MAX_FIELD_CHARS = 100  # a field name in an answer (an unknown property's may be any size)


async def read_body(receive: Receive) -> bytes:
    """Read the whole request body (its size is already bounded by ``BodyLimitMiddleware``)."""
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields ``body`` once, then falls through to the real one."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive_again() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return receive_again


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON document, telling bad encoding apart from bad syntax."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEncoding("The request body is not valid UTF-8.") from None
        raise MalformedJson(f"The request body is not valid JSON: {exc}") from None


def _field(path: Iterable[Any]) -> str:
    """The field's name as answers show it: derived from input, so cut to a fixed cap."""
    name = ".".join(str(part) for part in path) or "body"
    return name if len(name) <= MAX_FIELD_CHARS else name[: MAX_FIELD_CHARS - 1] + "…"


# The spec refuses NUL in every string that is stored or queried (PostgreSQL stores none):
# a pattern failure on a value holding one says so in plain words.
NUL_MESSAGE = "must not contain NUL characters (U+0000)"


# A schema whose pattern is too long to quote names an explainer (``x-explain``); the
# composition root registers each one: it says in words why a value does not fit.
EXPLAINERS: dict[str, Callable[[str], str]] = {}
MAX_QUOTED_PATTERN = 120


def _pattern_message(value: Any, pattern: str, node: dict[str, Any]) -> str:
    if isinstance(value, str) and "\x00" in value:
        return NUL_MESSAGE
    if isinstance(value, str) and not value.strip():
        return "must not be blank"
    explain = EXPLAINERS.get(node.get("x-explain", ""))
    if explain is not None and isinstance(value, str):
        return explain(value)
    if len(pattern) > MAX_QUOTED_PATTERN:
        return "does not have the form the spec describes for it"
    return f"must match the pattern {pattern}"


def _at(node: Any, path: Iterable[Any]) -> Any:
    for part in path:
        node = node[part]
    return node


_MESSAGES: dict[str, Callable[[Any], str]] = {
    "type": lambda expected: f"must be of type {' or '.join(_as_list(expected))}",
    "minimum": lambda expected: f"must be at least {expected}",
    "maximum": lambda expected: f"must be at most {expected}",
    "exclusiveMinimum": lambda _: "is at or below its exclusive minimum",
    "exclusiveMaximum": lambda _: "is at or above its exclusive maximum",
    "multipleOf": lambda expected: f"must be a multiple of {expected}",
    "minLength": lambda expected: f"must be at least {expected} characters long",
    "maxLength": lambda expected: f"must be at most {expected} characters long",
    "format": lambda expected: f"must be a valid {expected}",
    "enum": lambda expected: "must be one of " + ", ".join(map(str, expected)),
    "minItems": lambda expected: f"must have at least {expected} items",
    "maxItems": lambda expected: f"must have at most {expected} items",
    "uniqueItems": lambda _: "must not contain duplicates",
    "minProperties": lambda expected: f"must have at least {expected} properties",
    "maxProperties": lambda expected: f"must have at most {expected} properties",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _describe(error: jsonschema_rs.ValidationError, schema: dict[str, Any]) -> list[dict[str, str]]:
    """Turn one validation error into short, value-free ``{field, message}`` entries."""
    keyword = str(error.schema_path[-1]) if error.schema_path else ""
    prefix = list(error.instance_path)
    instance = error.instance
    if keyword == "required" and isinstance(instance, dict):
        expected = _at(schema, error.schema_path)
        return [
            {"field": _field([*prefix, name]), "message": "is required"}
            for name in expected
            if name not in instance
        ]
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = set(_at(schema, error.schema_path[:-1]).get("properties", {}))
        return [
            {"field": _field([*prefix, name]), "message": "is not allowed"}
            for name in instance
            if name not in known
        ][:MAX_REPORTED_ERRORS]
    describe = _MESSAGES.get(keyword)
    if keyword == "pattern":
        node = _at(schema, error.schema_path[:-1])
        message = _pattern_message(instance, node["pattern"], node)
    elif describe is not None:
        message = describe(_at(schema, error.schema_path))
    else:  # anyOf, oneOf, not, ...: the library's wording, cut short (it may quote the value)
        message = error.message if len(error.message) <= 120 else error.message[:119] + "…"
    return [{"field": _field(prefix), "message": message}]


def openapi_to_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema draft 4: ``nullable: true`` becomes a ``null`` type.

    Everything else in an OpenAPI 3.0 schema object is either draft 4 already or an
    annotation (``example``, ``readOnly``, ...) that a draft 4 validator ignores.
    """
    if isinstance(schema, list):
        return [openapi_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi_to_json_schema(value) for key, value in schema.items()}
    if converted.pop("nullable", False) or converted.pop("x-nullable", False):
        if "type" in converted:
            converted["type"] = [*_as_list(converted["type"]), "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    return converted


class JsonBodySchema:
    """One request-body schema, compiled once (jsonschema-rs, draft 4 with OpenAPI nullable)."""

    def __init__(self, schema: dict[str, Any], *, required: bool, nullable: bool) -> None:
        self.required = required
        self.nullable = nullable
        self._schema = openapi_to_json_schema(schema)
        self._validator = jsonschema_rs.Draft4Validator(self._schema)

    def check(self, body: bytes) -> Any:
        """Parse and validate ``body``; return the value or raise a 400 problem."""
        if not body:
            if self.required:
                raise ValidationFailed([{"field": "body", "message": "a JSON body is required"}])
            return None
        return self.validate(parse_json(body))

    def validate(self, value: Any) -> Any:
        if (value is None and self.nullable) or self._validator.is_valid(value):
            return value
        errors: dict[tuple[str, str], dict[str, str]] = {}
        for error in self._validator.iter_errors(value):
            for entry in _describe(error, self._schema):
                errors[entry["field"], entry["message"]] = entry
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
        raise ValidationFailed(sorted(errors.values(), key=lambda e: e["field"]))


class FormBodySchema(JsonBodySchema):
    """An ``application/x-www-form-urlencoded`` body, as a dict of strings, checked like JSON."""

    def check(self, body: bytes) -> Any:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEncoding("The request body is not valid UTF-8.") from None
        fields: dict[str, str] = {}
        known = self._schema.get("properties", {})
        for name, value in parse_qsl(text, keep_blank_values=True):
            if name in fields:
                if name in known:  # RFC 6749 §3.1: parameters must not be repeated
                    raise FormValidationFailed(
                        [{"field": _field([name]), "message": "must not be repeated"}]
                    )
                continue  # §3.2: an unknown parameter is ignored, however often it comes
            fields[name] = value
        # An empty form is a form without fields: the schema says which ones are required.
        try:
            return self.validate(fields)
        except ValidationFailed as failed:
            raise FormValidationFailed(failed.errors, sent=fields) from None


FORM = "application/x-www-form-urlencoded"


def split_media_type(content_type: str) -> tuple[str, str | None]:
    """``'Application/JSON; charset="UTF-8"'`` -> ``('application/json', 'utf-8')``."""
    mime_type, _, parameters = content_type.partition(";")
    charset = None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return mime_type.strip().lower(), charset


# RFC 9110 §5.3: a list-based field sent on several lines is one comma-separated list (the
# spec's header parameters of that kind); any other header parameter sent twice is refused,
# as a repeated query parameter is, since which line counts is not for the service to guess.
LIST_HEADERS = frozenset({"if-match", "if-none-match"})


def _is_json(mime_type: str) -> bool:
    return mime_type == "application/json" or mime_type.endswith("+json")


def _unknown_query_parameter(name: str) -> dict[str, str]:
    if not name:  # "?=1": there is no name to report, and it is no field of the body
        return {"field": "query", "message": "has a parameter without a name"}
    return {"field": _field([name]), "message": "is not a known query parameter"}


class _ParameterSchema:
    """One parameter's schema, compiled twice: jsonschema-rs (the schema engine of bodies,
    in Rust) passes a valid value, about ten times faster; a value it does not pass is
    judged and described by jsonschema, whose verdict has always been the one that counts.
    A schema jsonschema-rs cannot compile is left to jsonschema alone."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.full = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        self.fast: jsonschema_rs.Draft4Validator | None
        try:
            self.fast = jsonschema_rs.Draft4Validator(openapi_to_json_schema(schema))
        except (ValueError, jsonschema_rs.ValidationError):
            self.fast = None

    def passes(self, value: Any) -> bool:
        """Whether jsonschema-rs passes ``value`` (False: jsonschema is to judge it, also
        for a value jsonschema-rs cannot take, which it reports as a ValueError)."""
        if self.fast is None:
            return False
        try:
            return self.fast.is_valid(value)
        except ValueError:
            return False


class ParameterChecks(ParameterValidator):
    """Connexion's parameter validation with compiled validators and our error format.

    Connexion deep-copies each parameter schema and builds a new jsonschema validator for
    every parameter of every request, and reports failures as a raw jsonschema dump. Here
    each parameter's validator is built once, and a failure is a ``ValidationFailed``
    naming the parameter.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled: dict[int, _ParameterSchema] = {}
        self._required_query = any(p.get("required") for p in self.parameters.get("query", []))
        # A scalar given twice is refused: which value counts is not for the service to guess.
        self._scalar_query = [
            p["name"]
            for p in self.parameters.get("query", [])
            if p.get("schema", {}).get("type") != "array"
        ]
        self._header_names = {
            p["name"].lower().encode("latin-1"): p["name"]
            for p in self.parameters.get("header", [])
        }

    def _one_line_per_header(self, scope: Scope) -> None:
        """Leave each header parameter on one line in the scope, for validation and the
        handler alike: list headers' lines joined, a single-value header's repeat refused."""
        lines = Counter(name for name, _ in scope["headers"] if name in self._header_names)
        repeated = [name for name, count in lines.items() if count > 1]
        if not repeated:
            return
        refused = [name for name in repeated if name.decode("latin-1") not in LIST_HEADERS]
        if refused:
            raise ValidationFailed(
                [
                    {"field": self._header_names[name], "message": "must not be repeated"}
                    for name in refused
                ]
            )
        joined = {
            name: b", ".join(value for key, value in scope["headers"] if key == name)
            for name in repeated
        }
        headers = []
        for name, value in scope["headers"]:
            if name not in joined:
                headers.append((name, value))
            elif name in lines:  # the first line takes them all; the later ones go
                headers.append((name, joined[name]))
                del lines[name]
        scope["headers"] = headers

    def validate_parameter(  # type: ignore[override]
        self, parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> None:
        name = param_name or param["name"]
        if value is None:
            if param.get("required"):
                raise ValidationFailed(
                    [{"field": name, "message": f"is a required {parameter_type} parameter"}]
                )
            return
        if is_nullable(param) and is_null(value):
            return
        compiled = self._compiled.get(id(param))
        if compiled is None:
            compiled = self._compiled[id(param)] = _ParameterSchema(param.get("schema", param))
        if compiled.passes(value):
            return
        validator = compiled.full
        error = best_match(validator.iter_errors(value))
        if error is not None:
            if error.validator == "pattern":
                message = _pattern_message(error.instance, str(error.validator_value), error.schema)
            else:
                describe = _MESSAGES.get(str(error.validator))
                message = describe(error.validator_value) if describe else "is not valid"
            raise ValidationFailed(
                [{"field": _field([name, *error.absolute_path]), "message": message}]
            )

    def validate(self, scope: Scope) -> None:
        """Without a query string (the common case) check path and header values straight
        from the scope; otherwise take Connexion's full route through a request object."""
        if self._header_names:
            self._one_line_per_header(scope)
        if scope["query_string"] or self._required_query or self.parameters.get("cookie"):
            super().validate(scope)
            return
        if self.parameters.get("path"):
            path_values = self.uri_parser.resolve_path(scope.get("path_params", {}))
            for param in self.parameters["path"]:
                self.validate_parameter("path", path_values.get(param["name"]), param)
        if self.parameters.get("header"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            for param in self.parameters["header"]:
                self.validate_parameter("header", headers.get(param["name"].lower()), param)

    def validate_request(self, request: Any) -> None:
        if self.strict_validation:  # checked here so that unknown names get our format too
            unknown = self.validate_query_parameter_list(
                request, security_params=self.security_query_params
            )
            if unknown:
                raise ValidationFailed(
                    [
                        _unknown_query_parameter(name)
                        for name in sorted(unknown)[:MAX_REPORTED_ERRORS]
                    ]
                )
        query = request.scope["query_string"].decode("latin-1")
        given = Counter(name for name, _ in parse_qsl(query, keep_blank_values=True))
        repeated = [name for name in self._scalar_query if given[name] > 1]
        if repeated:
            raise ValidationFailed(
                [{"field": _field([name]), "message": "must not be repeated"} for name in repeated]
            )
        super().validate_request(request)


class CompiledValidationOperation(RequestValidationOperation):
    """Validates one operation's parameters, media type and body with prebuilt validators."""

    def __init__(
        self,
        next_app: ASGIApp,
        *,
        operation: AbstractOperation,
        strict_validation: bool = False,
        validator_map: dict | None = None,
    ) -> None:
        super().__init__(
            next_app,
            operation=operation,
            strict_validation=strict_validation,
            validator_map=validator_map,
        )
        uri_parser = operation.uri_parser_class(operation.parameters, operation.body_definition())
        self._parameters = ParameterChecks(
            operation.parameters,
            uri_parser=uri_parser,
            strict_validation=strict_validation,
            security_query_params=self.security_query_params,
        )
        self._has_parameters = bool(operation.parameters)
        self._consumes = [c.lower() for c in operation.consumes] if operation.request_body else []
        self._media_types = MediaTypeDict([(c, None) for c in self._consumes])
        self._json_bodies: dict[str, JsonBodySchema] = {}
        required = bool(operation.request_body.get("required", False))
        for mime_type in self._consumes:
            schema = operation.body_schema(mime_type)
            if schema and _is_json(mime_type):
                self._json_bodies[mime_type] = JsonBodySchema(
                    schema,
                    required=required,
                    nullable=is_nullable(operation.body_definition(mime_type)),
                )
            elif schema and mime_type == FORM:
                self._json_bodies[mime_type] = FormBodySchema(
                    schema, required=required, nullable=False
                )
        self._form_validators = {
            mime_type: VALIDATOR_MAP["body"][mime_type]  # type: ignore[index]
            for mime_type in self._consumes
            if not _is_json(mime_type) and mime_type != FORM and mime_type in VALIDATOR_MAP["body"]  # type: ignore[operator]
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # An operation without parameters has nothing to check unless a query string came in
        # (strict validation rejects unknown query parameters).
        if self._has_parameters or scope["query_string"]:
            self._parameters.validate(scope)
        if self._consumes:
            receive = await self._validate_body(scope, receive)
        await self.next_app(scope, receive, send)

    async def _validate_body(self, scope: Scope, receive: Receive) -> Receive:
        content_type = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"content-type"), None
        )
        body = await read_body(receive)
        if content_type is None:
            if body:
                raise UnsupportedMediaType(
                    f"A request body needs a Content-Type; expected one of {self._consumes}."
                )
            mime_type, encoding = self._consumes[0], None
        else:
            mime_type, encoding = split_media_type(content_type)
            if mime_type not in self._media_types:
                raise UnsupportedMediaType(
                    f"Content-Type {mime_type[:80]!r} is not accepted here; "
                    f"expected one of {self._consumes}."
                )
        json_body = self._json_bodies.get(mime_type)
        if json_body is not None:
            if encoding not in (None, "utf-8", "utf8"):
                raise UnsupportedMediaType(
                    "JSON bodies must be UTF-8 encoded."
                    if _is_json(mime_type)
                    else "Form bodies must be UTF-8 encoded."
                )
            scope[PARSED_BODY] = json_body.check(body)
        elif mime_type in self._form_validators:
            validator = self._form_validators[mime_type](
                schema=self._operation.body_schema(mime_type),
                required=self._operation.request_body.get("required", False),
                encoding=encoding or "utf-8",
                strict_validation=self.strict_validation,
                uri_parser=self._operation.uri_parser_class(
                    self._operation.parameters, self._operation.body_definition()
                ),
            )
            return (await validator.wrap_receive(replay(body, receive), scope=scope))[0]
        return replay(body, receive)


class CompiledValidationAPI(RequestValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> RequestValidationOperation:
        return CompiledValidationOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class RequestValidation(RequestValidationMiddleware):
    """Drop-in for Connexion's request validation middleware; see the module docstring."""

    api_cls = CompiledValidationAPI  # type: ignore[assignment]
