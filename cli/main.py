"""``contract-api``: every operation of the spec as a command (typer), answers as tables.

    contract-api [--base-url URL] [--api-key KEY | --client-id ID --client-secret S]
                 [--output table|json] COMMAND ...

Exit codes: 0 all requests succeeded, 1 some failed, 2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from contract_api_client.api.clients import create_client, get_client, list_clients, revoke_client
from contract_api_client.api.destinations import (
    create_destination,
    delete_destination,
    get_destination,
    list_destinations,
    rotate_destination_secret,
    update_destination,
)
from contract_api_client.api.gateway import dispatch as dispatch_operation
from contract_api_client.api.gateway import get_dispatch, list_dispatches, retry_dispatch
from contract_api_client.api.greetings import hello as hello_operation
from contract_api_client.api.processing import process_data
from contract_api_client.api.records import get_record, list_records
from contract_api_client.api.users import (
    create_user,
    delete_user,
    get_user,
    list_users,
    replace_user,
    update_user,
)
from contract_api_client.models import (
    ApiClientInput,
    DestinationInput,
    DestinationPatch,
    Dispatch,
    DispatchRequest,
    ProcessRequest,
    SecretRotation,
    UserInput,
    UserPatch,
)
from contract_api_client.models.dispatch_state import DispatchState
from contract_api_client.types import UNSET

from cli import batch, config, output
from cli.errors import FAILED, USAGE, CliError, ConfigError
from cli.session import Session

app = typer.Typer(
    name="contract-api",
    help="Talk to the Contract API: every operation of its spec, plus batches and fan-out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
users_app = typer.Typer(help="Users: list, get, create, update (PUT), patch, delete.")
records_app = typer.Typer(help="Processed records: list, get.")
destinations_app = typer.Typer(help="The gateway's destinations (admin).")
clients_app = typer.Typer(help="API clients (admin).")
dispatches_app = typer.Typer(help="Dispatches and their deliveries: list, get, retry.")
app.add_typer(users_app, name="users")
app.add_typer(records_app, name="records")
app.add_typer(destinations_app, name="destinations")
app.add_typer(clients_app, name="clients")
app.add_typer(dispatches_app, name="dispatches")


@app.callback()
def main_options(
    ctx: typer.Context,
    base_url: Annotated[
        str | None, typer.Option(envvar="CONTRACT_API_URL", help="Service URL.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="CONTRACT_API_KEY", help="API key (X-API-Key).")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(envvar="CONTRACT_API_CLIENT_ID", help="OAuth2 client id.")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(envvar="CONTRACT_API_CLIENT_SECRET", help="OAuth2 client secret."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--output", "-o", envvar="CONTRACT_API_OUTPUT", help="table or json."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(envvar="CONTRACT_API_TIMEOUT", help="Seconds per request.")
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option("--config", envvar="CONTRACT_API_CONFIG", help="TOML config file."),
    ] = None,
) -> None:
    """Settings: flags, then CONTRACT_API_* variables, then ~/.config/contract-api/config.toml."""
    preset = ctx.obj if isinstance(ctx.obj, dict) else {}
    settings = config.load(
        config_file=config_file,
        base_url=base_url,
        api_key=api_key,
        client_id=client_id,
        client_secret=client_secret,
        output=output_format,
        timeout=timeout,
    )
    ctx.obj = Session(
        settings,
        transport=preset.get("transport"),
        async_transport=preset.get("async_transport"),
    )


def session(ctx: typer.Context) -> Session:
    result: Session = ctx.obj
    return result


def show(ctx: typer.Context, value: Any, title: str | None = None) -> None:
    output.show(value, output=session(ctx).config.output, title=title)


def opt(value: Any) -> Any:
    """None (an option not given) as the generated client's UNSET."""
    return UNSET if value is None else value


def json_argument(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError(f"{what} is not valid JSON") from None


# Greetings, tokens ----------------------------------------------------------------------


@app.command()
def hello(ctx: typer.Context) -> None:
    """GET /hello: is the service there?"""
    show(ctx, session(ctx).call(hello_operation.sync_detailed))


@app.command()
def token(
    ctx: typer.Context,
    fresh: Annotated[bool, typer.Option(help="Ignore the cached token.")] = False,
) -> None:
    """Get (or show the cached) access token for --client-id/--client-secret."""
    current = session(ctx)
    if not current.config.client_id:
        raise ConfigError("token needs --client-id and --client-secret")
    show(ctx, {"access_token": current.access_token(fresh=fresh)})


# Processing -----------------------------------------------------------------------------


@app.command()
def process(
    ctx: typer.Context,
    user_id: Annotated[int | None, typer.Option(help="One record: its user_id.")] = None,
    item_id: Annotated[int | None, typer.Option()] = None,
    quantity: Annotated[int | None, typer.Option()] = None,
    idempotency_key: Annotated[str | None, typer.Option()] = None,
    file: Annotated[Path | None, typer.Option(help="Many records: a .csv or .jsonl file.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64)] = 8,
    failed: Annotated[
        Path | None, typer.Option(help="Where failed rows go (default FILE.failed.jsonl).")
    ] = None,
    as_new: AsNew = False,
) -> None:
    """POST /process_data: one record from options, or a whole file (batch).

    Each row's Idempotency-Key is made from its content, so sending a file again never
    processes a row twice; --as-new sends every row as a new record."""
    if file is not None:
        if user_id is not None or item_id is not None or quantity is not None:
            raise ConfigError("give either --file or --user-id/--item-id/--quantity")
        report = batch.run(
            session(ctx), file, concurrency=concurrency, failed_file=failed, as_new=as_new
        )
        if report.failed:
            raise typer.Exit(FAILED)
        return
    if user_id is None or item_id is None or quantity is None:
        raise ConfigError("process needs --user-id, --item-id and --quantity (or --file)")
    body = ProcessRequest(user_id=user_id, item_id=item_id, quantity=quantity)
    answer = session(ctx).call(
        process_data.sync_detailed, body=body, idempotency_key=opt(idempotency_key)
    )
    show(ctx, answer)


AsNew = Annotated[
    bool,
    typer.Option(
        "--as-new",
        help="A fresh Idempotency-Key: a record sent before (in the last 24 h) is processed "
        "again, as a new one.",
    ),
]


@app.command()
def send(
    ctx: typer.Context,
    to: Annotated[list[str], typer.Option(help="A service URL; repeat for each service.")],
    user_id: Annotated[int, typer.Option()],
    item_id: Annotated[int, typer.Option()],
    quantity: Annotated[int, typer.Option()],
    as_new: AsNew = False,
    to_key: Annotated[
        list[str] | None,
        typer.Option(help="URL=KEY: the API key (X-API-Key) for that --to service; repeatable."),
    ] = None,
) -> None:
    """POST the same record to several services at once; a table of their answers.

    The configured credential goes only to a --to URL on the configured service's origin;
    other services are called without one, unless --to-key names one for them."""
    results = batch.send_to_services(
        session(ctx),
        to,
        {"user_id": user_id, "item_id": item_id, "quantity": quantity},
        as_new=as_new,
        keys=batch.keys_for(to_key or []),
    )
    show(ctx, results, title="answers")
    if any(not 200 <= result["status"] < 300 for result in results):
        raise typer.Exit(FAILED)


# Records --------------------------------------------------------------------------------


def pages(ctx: typer.Context, operation: Any, every: bool, **kwargs: Any) -> dict[str, Any]:
    """One page, or with ``every`` all of them (following ``next_cursor``), in the API's
    own shape: ``items`` and the ``next_cursor`` of the page after (None at the end)."""
    items: list[Any] = []
    while True:
        page = session(ctx).call(operation.sync_detailed, **kwargs)
        items += page.items
        if not every or not page.next_cursor:
            return {"items": items, "next_cursor": page.next_cursor or None}
        kwargs["cursor"] = page.next_cursor


def show_page(ctx: typer.Context, page: dict[str, Any], title: str | None = None) -> None:
    """A list as a table with the cursor of the next page under it, or as JSON."""
    if session(ctx).config.output == "json":
        show(ctx, page)
        return
    show(ctx, page["items"], title=title)
    if page["next_cursor"]:
        output.errors.print(f"more: --cursor {page['next_cursor']}")


Limit = Annotated[int, typer.Option(min=1, max=100, help="Page size.")]
Cursor = Annotated[str | None, typer.Option(help="next_cursor of the previous page.")]
Every = Annotated[bool, typer.Option("--all", help="Follow every page.")]


@records_app.command("list")
def records_list(
    ctx: typer.Context,
    user_id: Annotated[int | None, typer.Option()] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
    every: Every = False,
) -> None:
    """GET /records."""
    show_page(
        ctx,
        pages(ctx, list_records, every, user_id=opt(user_id), limit=limit, cursor=opt(cursor)),
        title="records",
    )


@records_app.command("get")
def records_get(ctx: typer.Context, record_id: int) -> None:
    """GET /records/{id}."""
    show(ctx, session(ctx).call(get_record.sync_detailed, record_id=record_id))


# Users ----------------------------------------------------------------------------------


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    name_contains: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    min_age: Annotated[int | None, typer.Option()] = None,
    max_age: Annotated[int | None, typer.Option()] = None,
    sort: Annotated[str | None, typer.Option(help="created_at, -created_at, name, -name")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
    every: Every = False,
) -> None:
    """GET /users, with filters and paging."""
    page = pages(
        ctx,
        list_users,
        every,
        name_contains=opt(name_contains),
        email=opt(email),
        min_age=opt(min_age),
        max_age=opt(max_age),
        sort=opt(sort),
        limit=limit,
        cursor=opt(cursor),
    )
    show_page(ctx, page, title="users")


@users_app.command("get")
def users_get(ctx: typer.Context, user_id: int) -> None:
    """GET /users/{id}."""
    show(ctx, session(ctx).call(get_user.sync_detailed, user_id=user_id))


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option()],
    email: Annotated[str | None, typer.Option(help="Optional.")] = None,
    age: Annotated[int | None, typer.Option()] = None,
    idempotency_key: Annotated[str | None, typer.Option()] = None,
) -> None:
    """POST /users."""
    body = UserInput(name=name, email=opt(email), age=opt(age))
    answer = session(ctx).call(
        create_user.sync_detailed, body=body, idempotency_key=opt(idempotency_key)
    )
    show(ctx, answer)


@users_app.command("update")
def users_update(
    ctx: typer.Context,
    user_id: int,
    name: Annotated[str, typer.Option()],
    email: Annotated[str | None, typer.Option(help="Omitted: the user has none.")] = None,
    age: Annotated[int | None, typer.Option()] = None,
    if_match: Annotated[str | None, typer.Option()] = None,
) -> None:
    """PUT /users/{id}: replace every field."""
    body = UserInput(name=name, email=opt(email), age=opt(age))
    answer = session(ctx).call(
        replace_user.sync_detailed, user_id=user_id, body=body, if_match=opt(if_match)
    )
    show(ctx, answer)


@users_app.command("patch")
def users_patch(
    ctx: typer.Context,
    user_id: int,
    name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    age: Annotated[int | None, typer.Option()] = None,
    clear_age: Annotated[bool, typer.Option(help="Set age to null.")] = False,
    if_match: Annotated[str | None, typer.Option()] = None,
) -> None:
    """PATCH /users/{id}: change only the fields given."""
    if clear_age and age is not None:
        raise ConfigError("give --age or --clear-age, not both")
    body = UserPatch(name=opt(name), email=opt(email), age=None if clear_age else opt(age))
    answer = session(ctx).call(
        update_user.sync_detailed, user_id=user_id, body=body, if_match=opt(if_match)
    )
    show(ctx, answer)


@users_app.command("delete")
def users_delete(
    ctx: typer.Context,
    user_id: int,
    if_match: Annotated[str | None, typer.Option()] = None,
) -> None:
    """DELETE /users/{id}."""
    session(ctx).call(delete_user.sync_detailed, user_id=user_id, if_match=opt(if_match))
    show(ctx, {"deleted": user_id})


# Destinations and dispatch --------------------------------------------------------------


@destinations_app.command("list")
def destinations_list(
    ctx: typer.Context, limit: Limit = 20, cursor: Cursor = None, every: Every = False
) -> None:
    """GET /destinations."""
    show_page(ctx, pages(ctx, list_destinations, every, limit=limit, cursor=opt(cursor)))


@destinations_app.command("get")
def destinations_get(ctx: typer.Context, name: str) -> None:
    """GET /destinations/{name}, with its circuit breaker's state."""
    show(ctx, session(ctx).call(get_destination.sync_detailed, name=name))


@destinations_app.command("create")
def destinations_create(
    ctx: typer.Context,
    name: str,
    url: Annotated[str, typer.Option()],
    timeout_seconds: Annotated[float | None, typer.Option()] = None,
    settings: Annotated[
        str | None,
        typer.Option(
            help='More fields as JSON: {"retry": {"max_attempts": 5}}, '
            '{"delivery": {"max_attempts": 3, "initial_backoff_seconds": 1}}'
        ),
    ] = None,
) -> None:
    """POST /destinations: retry, circuit_breaker and delivery (the policy of
    asynchronous deliveries) go in --settings."""
    fields = json_argument(settings, "--settings") if settings else {}
    body = DestinationInput.from_dict(
        {**fields, "name": name, "url": url}
        | ({"timeout_seconds": timeout_seconds} if timeout_seconds is not None else {})
    )
    show(ctx, session(ctx).call(create_destination.sync_detailed, body=body))


@destinations_app.command("update")
def destinations_update(
    ctx: typer.Context,
    name: str,
    patch: Annotated[str, typer.Option(help='A merge patch as JSON: {"enabled": false}')],
) -> None:
    """PATCH /destinations/{name}."""
    body = DestinationPatch.from_dict(json_argument(patch, "--patch"))
    show(ctx, session(ctx).call(update_destination.sync_detailed, name=name, body=body))


@destinations_app.command("rotate-secret")
def destinations_rotate_secret(
    ctx: typer.Context,
    name: str,
    overlap_seconds: Annotated[
        int | None,
        typer.Option(
            help="How long the old secret keeps signing too (the service's default: a day)."
        ),
    ] = None,
) -> None:
    """POST /destinations/{name}/rotate-secret: prints the new signing secret, once."""
    body = SecretRotation(overlap_seconds=opt(overlap_seconds))
    show(ctx, session(ctx).call(rotate_destination_secret.sync_detailed, name=name, body=body))


@destinations_app.command("delete")
def destinations_delete(ctx: typer.Context, name: str) -> None:
    """DELETE /destinations/{name}."""
    session(ctx).call(delete_destination.sync_detailed, name=name)
    show(ctx, {"deleted": name})


@app.command()
def dispatch(
    ctx: typer.Context,
    payload: Annotated[str, typer.Option(help="The JSON object to send.")],
    to: Annotated[list[str] | None, typer.Option(help="A destination name; repeatable.")] = None,
    timeout_seconds: Annotated[float | None, typer.Option()] = None,
    idempotency_key: Annotated[str | None, typer.Option()] = None,
    in_background: Annotated[
        bool,
        typer.Option(
            "--async",
            help="Prefer: respond-async: the service stores the dispatch, answers 202 and "
            "delivers it in the background (see `dispatches get`).",
        ),
    ] = False,
    wait: Annotated[
        bool, typer.Option(help="With --async: poll until no delivery is pending any more.")
    ] = False,
    wait_timeout: Annotated[
        float, typer.Option(min=0.1, help="With --wait: give up after this many seconds.")
    ] = 60.0,
) -> None:
    """POST /dispatch: the payload to several destinations at once, through the service.

    Exit code 1 when every destination failed (synchronous), or with --wait when a delivery
    ended failed or dead, or the dispatch is still pending at --wait-timeout."""
    if wait and not in_background:
        raise ConfigError("--wait goes with --async")
    body: dict[str, Any] = {"payload": json_argument(payload, "--payload")}
    if to:
        body["destinations"] = to
    if timeout_seconds is not None:
        body["timeout_seconds"] = timeout_seconds
    report = session(ctx).call(
        dispatch_operation.sync_detailed,
        body=DispatchRequest.from_dict(body),
        idempotency_key=opt(idempotency_key),
        prefer="respond-async" if in_background else UNSET,
    )
    if in_background and isinstance(report, Dispatch):
        accepted = report.to_dict()
        if wait:
            accepted = wait_for(ctx, accepted["id"], wait_timeout)
        show_dispatch(ctx, accepted)
        if wait and accepted["state"] != "delivered":
            raise typer.Exit(FAILED)
        return
    if in_background:  # a service without asynchronous dispatch ignored the preference
        output.errors.print("note: the service dispatched synchronously", markup=False)
    results = [result.to_dict() for result in report.results]
    if session(ctx).config.output == "json":
        show(ctx, report)
    else:
        # The record of it (dispatches get) when the service keeps one.
        named = report.dispatch_id if isinstance(report.dispatch_id, str) else report.request_id
        show(ctx, results, title=f"dispatch {named}: {report.summary}")
    if report.failed:
        raise typer.Exit(FAILED)


WAIT_POLL_S = 0.25


def wait_for(ctx: typer.Context, dispatch_id: str, seconds: float) -> dict[str, Any]:
    """GET the dispatch until it is no longer pending, or ``seconds`` have passed (then
    the last answer, still pending, with a line on stderr saying so)."""
    deadline = time.monotonic() + seconds
    while True:
        current: dict[str, Any] = (
            session(ctx).call(get_dispatch.sync_detailed, dispatch_id=dispatch_id).to_dict()
        )
        if current["state"] != "pending":
            return current
        if time.monotonic() >= deadline:
            output.errors.print(
                f"still pending after {seconds:g} s: contract-api dispatches get {dispatch_id}",
                markup=False,
            )
            return current
        time.sleep(min(WAIT_POLL_S, max(deadline - time.monotonic(), 0.0)))


def when(moment: str | None) -> str | None:
    """An ISO timestamp to the second, for a table cell."""
    return moment[:19].replace("T", " ") if moment else None


def error_line(error: dict[str, str] | None) -> str | None:
    return f"{error['type']}: {error['detail']}" if error else None


def delivery_rows(dispatch: dict[str, Any]) -> list[dict[str, Any]]:
    """One row a destination: how its delivery fares."""
    return [
        {
            "destination": part["destination"],
            "state": part["state"],
            "attempts": part["attempts"],
            "next_attempt": when(part.get("next_attempt_at")),
            "last_status": part.get("last_status"),
            "last_error": error_line(part.get("last_error")),
        }
        for part in dispatch["deliveries"]
    ]


def attempt_rows(dispatch: dict[str, Any]) -> list[dict[str, Any]]:
    """Every attempt of every delivery, oldest first per destination."""
    return [
        {
            "destination": part["destination"],
            "attempt": attempt["number"],
            "started": when(attempt["started_at"]),
            "latency_ms": attempt.get("latency_ms"),
            "status": attempt.get("status"),
            "error": error_line(attempt.get("error")),
        }
        for part in dispatch["deliveries"]
        for attempt in part.get("attempt_log") or []
    ]


def show_dispatch(ctx: typer.Context, dispatch: dict[str, Any], *, log: bool = False) -> None:
    """A dispatch as the table of its deliveries (with ``log``, its attempts under it)."""
    if session(ctx).config.output == "json":
        show(ctx, dispatch)
        return
    title = f"dispatch {dispatch['id']} ({dispatch['mode']}): {dispatch['state']}"
    show(ctx, delivery_rows(dispatch), title=title)
    if log:
        attempts = attempt_rows(dispatch)
        if attempts:
            show(ctx, attempts, title="attempts")
        else:
            output.console.print("no attempt yet")


# Dispatches -----------------------------------------------------------------------------


@dispatches_app.command("list")
def dispatches_list(
    ctx: typer.Context,
    state: Annotated[
        DispatchState | None, typer.Option(help="Only dispatches in this state.")
    ] = None,
    destination: Annotated[
        str | None, typer.Option(help="Only those with a delivery to this destination.")
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
    every: Every = False,
) -> None:
    """GET /dispatches: yours (admins: everyone's), newest first."""
    page = pages(
        ctx,
        list_dispatches,
        every,
        state=opt(state),
        destination=opt(destination),
        limit=limit,
        cursor=opt(cursor),
    )
    page["items"] = [item.to_dict() for item in page["items"]]
    if session(ctx).config.output == "json":
        show(ctx, page)
        return
    rows = [
        {
            "id": item["id"],
            "mode": item["mode"],
            "state": item["state"],
            "created": when(item["created_at"]),
            "deliveries": ", ".join(
                f"{part['destination']}: {part['state']}" for part in item["deliveries"]
            ),
        }
        for item in page["items"]
    ]
    show_page(ctx, {"items": rows, "next_cursor": page["next_cursor"]}, title="dispatches")


@dispatches_app.command("get")
def dispatches_get(ctx: typer.Context, dispatch_id: str) -> None:
    """GET /dispatches/{id}: each delivery's state, attempts, next attempt, last answer,
    and the log of its attempts."""
    found = session(ctx).call(get_dispatch.sync_detailed, dispatch_id=dispatch_id)
    show_dispatch(ctx, found.to_dict(), log=True)


@dispatches_app.command("retry")
def dispatches_retry(ctx: typer.Context, dispatch_id: str) -> None:
    """POST /dispatches/{id}/retry: its failed and dead deliveries are pending again (409
    when there is none)."""
    retried = session(ctx).call(retry_dispatch.sync_detailed, dispatch_id=dispatch_id)
    show_dispatch(ctx, retried.to_dict())


# Clients --------------------------------------------------------------------------------


@clients_app.command("list")
def clients_list(
    ctx: typer.Context, limit: Limit = 20, cursor: Cursor = None, every: Every = False
) -> None:
    """GET /clients."""
    show_page(ctx, pages(ctx, list_clients, every, limit=limit, cursor=opt(cursor)))


@clients_app.command("get")
def clients_get(ctx: typer.Context, client_id: str) -> None:
    """GET /clients/{id}."""
    show(ctx, session(ctx).call(get_client.sync_detailed, client_id=client_id))


@clients_app.command("create")
def clients_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option()],
    scope: Annotated[list[str], typer.Option(help="A scope; repeatable.")],
) -> None:
    """POST /clients: the secret is shown this once."""
    body = ApiClientInput.from_dict({"name": name, "scopes": scope})
    show(ctx, session(ctx).call(create_client.sync_detailed, body=body))


@clients_app.command("revoke")
def clients_revoke(ctx: typer.Context, client_id: str) -> None:
    """POST /clients/{id}/revoke: the client stays readable, with its revoked_at."""
    show(ctx, session(ctx).call(revoke_client.sync_detailed, client_id=client_id))


# Entry point ----------------------------------------------------------------------------


def main(argv: list[str] | None = None, **preset: Any) -> int:
    """Run one command; returns the exit code. ``preset`` may carry test transports."""
    try:
        result = app(args=argv, obj=preset or None, standalone_mode=False, prog_name="contract-api")
    except CliError as exc:
        output.errors.print(f"error: {exc}", markup=False)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        output.errors.print("aborted")
        return FAILED
    except typer.TyperException as exc:  # usage: unknown command or option, bad value
        show_usage = getattr(exc, "show", None)
        if show_usage is not None:
            show_usage()
        else:
            output.errors.print(f"error: {exc}", markup=False)
        return USAGE
    except ValueError as exc:  # a model refused a value before sending (generated client)
        output.errors.print(f"error: {exc}", markup=False)
        return USAGE
    # Without standalone mode, typer returns an Exit's code instead of raising it.
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())
