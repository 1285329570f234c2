"""Answers on the terminal: rich tables for people, JSON for scripts (``--output json``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def plain(value: Any) -> Any:
    """Generated models (and lists and dicts of them) as plain JSON values."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> Table:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    grid = Table(title=title, show_lines=False)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*(_cell(row.get(column)) for column in columns))
    return grid


def show(value: Any, *, output: str, title: str | None = None) -> None:
    """Print one answer: an object as a key/value table, a list as a table, or JSON."""
    value = plain(value)
    if output == "json":
        console.print_json(json.dumps(value, ensure_ascii=False))
        return
    if isinstance(value, list):
        console.print(table(value, title=title) if value else "(none)")
    elif isinstance(value, dict):
        grid = Table(show_header=False, title=title)
        grid.add_column(style="bold")
        grid.add_column()
        for key, item in value.items():
            grid.add_row(key, _cell(item))
        console.print(grid)
    else:
        console.print(_cell(value))
