"""Many records at once: ``process --file`` and ``send --to … --to …``.

Rows are sent concurrently (at most ``concurrency`` at a time) through the generated
async client. Each row carries an ``Idempotency-Key`` made from its content, so sending a
file again, or the file of failed rows, never processes a row twice: the service replays
the first answer. A failure never stops the batch; failed rows go to a JSON Lines file
that ``process --file`` takes as it is.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import inspect
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from contract_api_client.api.processing import process_data
from contract_api_client.models import ProcessRequest, ProcessResponse
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli import output
from cli.errors import CliError, ConfigError
from cli.session import Session


@dataclass
class RowResult:
    row: int
    values: dict[str, Any]
    ok: bool
    status: str
    detail: str


@dataclass
class Report:
    results: list[RowResult] = field(default_factory=list)
    failed_file: Path | None = None

    @property
    def failed(self) -> list[RowResult]:
        return [result for result in self.results if not result.ok]


EXTRA_CELLS = "(cells beyond the header)"
RECORD_FIELDS = frozenset(inspect.signature(ProcessRequest).parameters)


def _unknown_fields(row: dict[str, Any]) -> list[str]:
    """What a row holds that a record has not: the API refuses it, so the batch does too
    (the generated model would drop it silently)."""
    return sorted(key for key in row if key not in RECORD_FIELDS)


def _number(value: str) -> Any:
    """CSV cells are text; numbers go as numbers, anything else as given (the service
    judges it: the spec is the one place the rules live)."""
    try:
        return int(value)
    except ValueError:
        return value


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The records of a .csv (with a header row) or .jsonl file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if path.suffix.lower() == ".csv":
        # Cells beyond the header row's names land under EXTRA_CELLS, and are refused.
        reader = csv.DictReader(text.splitlines(), restkey=EXTRA_CELLS)
        return [
            {k: v if k == EXTRA_CELLS else _number(v) for k, v in row.items() if k}
            for row in reader
        ]
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise ConfigError(f"{path}:{number}: not a JSON object") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{path}:{number}: not a JSON object")
            rows.append(row)
        return rows
    raise ConfigError(f"{path}: give a .csv or .jsonl file")


def _status_of(error: CliError) -> str:
    """The HTTP status an error line starts with, or "-" when there was no answer."""
    first = str(error).split(" ", 1)[0].rstrip(":")
    return first if first.isdigit() else "-"


def idempotency_key(row: dict[str, Any], *, as_new: bool = False) -> str:
    """The same row always gets the same key (so it is processed once), unless it is to
    be sent ``as_new``: then a fresh one."""
    if as_new:
        return "new-" + secrets.token_hex(20)
    canonical = json.dumps(row, sort_keys=True, separators=(",", ":"))
    return "row-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


async def _send_rows(
    session: Session,
    rows: list[dict[str, Any]],
    concurrency: int,
    progress: Progress,
    as_new: bool,
) -> list[RowResult]:
    task = progress.add_task("processing", total=len(rows))
    limit = asyncio.Semaphore(concurrency)
    client = session.async_client()

    async def one(number: int, row: dict[str, Any]) -> RowResult:
        async with limit:
            unknown = _unknown_fields(row)
            try:
                if unknown:
                    raise ValueError(f"unknown field(s): {', '.join(unknown)}")
                body = ProcessRequest.from_dict(row)
            except (KeyError, TypeError, ValueError) as exc:
                result = RowResult(number, row, False, "invalid", f"not a record: {exc}")
            else:
                try:
                    answer = await session.acall(
                        process_data.asyncio_detailed,
                        client=client,
                        body=body,
                        idempotency_key=idempotency_key(row, as_new=as_new),
                    )
                    result = RowResult(number, row, True, "200", f"record {answer.record_id}")
                except CliError as exc:
                    result = RowResult(number, row, False, _status_of(exc), str(exc))
            progress.advance(task)
            return result

    async with client:
        return list(await asyncio.gather(*(one(n, row) for n, row in enumerate(rows, 1))))


def run(
    session: Session,
    path: Path,
    *,
    concurrency: int,
    failed_file: Path | None,
    as_new: bool = False,
) -> Report:
    """Send every row of ``path``; print the results and a summary; write the failures."""
    rows = read_rows(path)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=output.errors, transient=True) as progress:
        results = asyncio.run(_send_rows(session, rows, concurrency, progress, as_new))
    report = Report(results)
    notes = _keep_failures(report, path, failed_file, rows)
    table = [{"row": r.row, "status": r.status, "result": r.detail} for r in report.results]
    summary = {
        "rows": len(results),
        "succeeded": len(results) - len(report.failed),
        "failed": len(report.failed),
        "failed_rows_file": str(report.failed_file) if report.failed_file else None,
    }
    if notes:
        summary["note"] = " ".join(notes)
    if session.config.output == "json":
        output.show({**summary, "results": table}, output="json")
    else:
        output.show(table, output="table", title=f"{path.name}")
        output.show(summary, output="table")
    return report


def _lines(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _earlier_failures(target: Path, rows: list[dict[str, Any]]) -> bool:
    """Whether ``target`` holds only rows of this input: an earlier run's failures, not
    rows someone fixed by hand."""
    try:
        return all(row in rows for row in read_rows(target))
    except ConfigError:
        return False


def _keep_failures(
    report: Report, path: Path, chosen: Path | None, rows: list[dict[str, Any]]
) -> list[str]:
    """Write the failed rows where they are safe, and tidy up after a clean run; what was
    done, for the summary. The failures of ``orders.csv`` and of ``orders.failed.jsonl``
    alike go to ``orders.failed.jsonl``; a file there that holds other rows (fixed by hand,
    say) is never overwritten: the failures go to ``orders.failed-2.jsonl`` instead."""
    base = path.stem.removesuffix(".failed")
    target = chosen or path.with_name(base + ".failed.jsonl")
    if not report.failed:
        if chosen is None and target.exists():
            if _earlier_failures(target, rows):
                target.unlink()
                return [f"removed {target.name}: its rows went through"]
            return [f"kept {target.name}: it holds rows this run did not send"]
        return []
    notes = []
    if target.exists() and not _earlier_failures(target, rows):
        taken, number = target, 2
        while target.exists():
            target = target.with_name(f"{base}.failed-{number}.jsonl")
            number += 1
        notes.append(f"{taken.name} holds other rows and was left as it is")
    target.write_text(_lines([r.values for r in report.failed]), encoding="utf-8")
    report.failed_file = target
    return notes


def _same_origin(url: str, other: str) -> bool:
    a, b = httpx.URL(url), httpx.URL(other)
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _answer_of(response: Any) -> tuple[int, str]:
    """Any answer, documented or not: its status and a line about it."""
    status = int(response.status_code)
    parsed = response.parsed
    if isinstance(parsed, ProcessResponse):
        return status, f"record {parsed.record_id}: {json.dumps(parsed.result.to_dict())}"
    text = response.content.decode("utf-8", "replace").strip().replace("\n", " ")
    return status, text[:200] or "(no body)"


def keys_for(pairs: Sequence[str]) -> dict[str, str]:
    """``URL=KEY`` pairs (``--to-key``) as {URL: KEY}."""
    keys = {}
    for pair in pairs:
        url, separator, key = pair.partition("=")
        if not separator or not url or not key:
            raise ConfigError(f"--to-key takes URL=KEY, not {pair[:80]!r}")
        keys[url.rstrip("/")] = key
    return keys


async def _send_each(
    session: Session,
    urls: Sequence[str],
    record: dict[str, Any],
    as_new: bool,
    keys: dict[str, str],
) -> list[dict[str, Any]]:
    async def one(url: str) -> dict[str, Any]:
        # The configured credential goes to the configured service only: another URL is
        # another party, which must not learn the key, unless it was given its own.
        config = replace(session.config, base_url=url)
        own = keys.get(url.rstrip("/"))
        if own is not None:
            config = replace(config, api_key=own, client_id=None, client_secret=None)
        elif not _same_origin(url, session.config.base_url):
            config = replace(config, api_key=None, client_id=None, client_secret=None)
        target = Session(config, async_transport=session.async_transport)
        started = time.perf_counter()
        client = target.async_client()
        async with client:
            try:
                response = await process_data.asyncio_detailed(
                    client=client,
                    body=ProcessRequest.from_dict(record),
                    idempotency_key=idempotency_key(record, as_new=as_new),
                )
                status, detail = _answer_of(response)
            except (httpx.HTTPError, ValueError) as exc:
                status, detail = 0, str(target.failure(exc))
        latency = round((time.perf_counter() - started) * 1000, 1)
        return {"service": url, "status": status, "latency_ms": latency, "answer": detail}

    return list(await asyncio.gather(*(one(url) for url in urls)))


def send_to_services(
    session: Session,
    urls: Sequence[str],
    record: dict[str, Any],
    *,
    as_new: bool = False,
    keys: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """POST ``record`` to /process_data of every service in ``urls`` at once; ``keys``
    gives a service's own API key, by URL."""
    return asyncio.run(_send_each(session, urls, record, as_new, keys or {}))
