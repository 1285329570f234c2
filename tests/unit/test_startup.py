"""A spec and handlers that disagree stop start-up with one line (issue 15's seventh
defect: the service used to start, then answer every request with a text/plain 500)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.app import SPEC_DIR, SPEC_FILE, StartupError, create_app
from tests.config import make_settings

ROOT = Path(__file__).resolve().parents[2]
SPEC = (SPEC_DIR / SPEC_FILE).read_text()
HELLO = "      operationId: hello\n      x-openapi-router-controller: server.handlers.greetings\n"
LIVE = "      operationId: live\n      x-openapi-router-controller: server.handlers.health\n"


def broken_spec(folder: Path, old: str, new: str) -> Path:
    assert SPEC.count(old) == 1, old
    path = folder / "openapi.yaml"
    path.write_text(SPEC.replace(old, new))
    return path


CASES = [
    pytest.param(
        "      operationId: list_users\n",
        "      operationId: list_usrs\n",
        "an operation has no handler: module 'server.handlers.users' has no attribute 'list_usrs'",
        id="no-handler",
    ),
    pytest.param(
        HELLO,
        HELLO.replace("server.handlers.greetings", "tests.broken_handlers"),
        "operation hello: its handler must be `async def`",
        id="not-async",
    ),
    pytest.param(
        LIVE,
        LIVE.replace("server.handlers.health", "tests.broken_handlers"),
        "operation live: the handler's parameter(s) thing are neither in the spec nor "
        "resources of the app",
        id="unfillable-parameter",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), CASES)
def test_create_app_refuses(tmp_path: Path, old: str, new: str, message: str) -> None:
    spec = broken_spec(tmp_path, old, new)
    with pytest.raises(StartupError) as caught:
        create_app(make_settings(f"sqlite:///{tmp_path}/x.db"), spec_file=spec)
    assert str(caught.value) == message


def test_python_m_server_exits_with_one_line(tmp_path: Path) -> None:
    old, new, message = CASES[0].values
    spec = broken_spec(tmp_path, str(old), str(new))
    # `python -m server` as it is, but reading the broken spec.
    run = (
        "import sys; from pathlib import Path; import server.app as app; "
        f"app.SPEC_DIR, app.SPEC_FILE = Path({str(tmp_path)!r}), {spec.name!r}; "
        "from server.__main__ import main; sys.exit(main([]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", run],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "APP_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "APP_PORT": "1",
            "APP_LOG_LEVEL": "error",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert done.stderr.strip().splitlines()[-1] == f"error: {message}"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        pytest.param(
            ["serve", "--port", "99999"],
            {},
            "error: port (APP_PORT): Input should be less than or equal to 65535",
            id="option",
        ),
        pytest.param(
            ["serve"],
            {"APP_WORKERS": "many"},
            "error: workers (APP_WORKERS): Input should be a valid integer, "
            "unable to parse string as an integer",
            id="environment",
        ),
        pytest.param(
            ["serve"],
            {"APP_DISPATCH_ALLOWED_HOSTS": '["billing.test", "user@host"]'},
            "error: dispatch_allowed_hosts (APP_DISPATCH_ALLOWED_HOSTS): "
            "'user@host' is not host, host:port or *.domain",
            id="allow-list",
        ),
    ],
)
def test_a_bad_setting_stops_python_m_server_with_one_line(
    tmp_path: Path, argv: list[str], env: dict[str, str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server", *argv],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "APP_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr.strip()) == (2, message), done
