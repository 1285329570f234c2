"""Where the CLI's settings come from: flags, then environment, then a TOML config file.

# ~/.config/contract-api/config.toml (or --config PATH, or $CONTRACT_API_CONFIG)
base_url = "http://127.0.0.1:8000"
api_key = "c_….…"            # or client_id + client_secret (OAuth2 client credentials)
output = "table"             # or "json"
timeout = 10
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.errors import ConfigError

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
KEYS = ("base_url", "api_key", "client_id", "client_secret", "output", "timeout")


@dataclass(frozen=True)
class Config:
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    output: str = "table"
    timeout: float = 10.0

    @property
    def api_url(self) -> str:
        """The API's root: the service's URL with the spec's ``/api`` server path."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/api") else base + "/api"


def default_config_file() -> Path:
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root) / "contract-api" / "config.toml"


def read_file(path: Path | None) -> dict[str, Any]:
    explicit = path is not None
    path = path or default_config_file()
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    try:
        values = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise ConfigError(f"config file {path}: unknown keys {', '.join(unknown)}")
    return values


def load(*, config_file: Path | None, **given: Any) -> Config:
    """Flags and environment (``given``, None when unset) over the file over defaults."""
    values = {**read_file(config_file), **{k: v for k, v in given.items() if v is not None}}
    if values.get("output", "table") not in ("table", "json"):
        raise ConfigError(f"output must be table or json, not {values['output']!r}")
    if bool(values.get("client_id")) != bool(values.get("client_secret")):
        raise ConfigError("client_id and client_secret go together")
    if values.get("api_key") and values.get("client_id"):
        raise ConfigError("give an API key or client credentials, not both")
    try:
        timeout = float(values.get("timeout", 10.0))
    except (TypeError, ValueError):
        raise ConfigError(
            f"timeout must be a number of seconds, not {values['timeout']!r}"
        ) from None
    if timeout <= 0:
        raise ConfigError("timeout must be positive")
    base_url = str(values.get("base_url", DEFAULT_BASE_URL))
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"base URL must start with http:// or https://, not {base_url!r}")
    return Config(
        base_url=base_url,
        api_key=values.get("api_key"),
        client_id=values.get("client_id"),
        client_secret=values.get("client_secret"),
        output=values.get("output", "table"),
        timeout=timeout,
    )
