"""Several instances of the service behind nginx, started and stopped as one::

    python -m scripts.cluster --instances 2 --port 8080

Each instance is ``python -m server serve`` on a loopback port of its own, in production
mode, all on one PostgreSQL database (created if missing, migrated once before any instance
starts) and one Redis (so rate limits are one budget for the whole cluster). nginx, configured
from ``deploy/nginx.conf.template``, balances between them and routes around a dead one.
Everything a run writes (nginx.conf, the shared secret, pid, logs, temp folders) is in the run
folder, ``var/cluster/`` by default. Ctrl-C or SIGTERM stops nginx, then the instances.

Tests drive the same code as a context manager::

    with Cluster(database_url=url, redis_url=redis_url, run_dir=tmp_path, port=0) as cluster:
        httpx.get(f"{cluster.url}/api/hello")
        os.kill(cluster.instances[0].process.pid, signal.SIGKILL)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

import asyncpg
import redis
from sqlalchemy.engine import make_url

from scripts.processes import ServerProcess, log_tail

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/contract_api"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_RUN_DIR = ROOT / "var" / "cluster"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # the service's own default for APP_MAX_BODY_BYTES
HOST = "127.0.0.1"
READY_PATH = "/api/health/ready"  # the database and Redis answer, too
SECRET_FILE = "secret_key"
MIN_SECRET_CHARS = 32
PORT_ATTEMPTS = 3  # a port found free may be taken by someone else before we bind it
PORT_TAKEN = re.compile(r"address already in use", re.IGNORECASE)


class ClusterError(RuntimeError):
    """The cluster could not start; the message says why and which log to read."""


@dataclass
class Instance:
    """One ``python -m server serve`` process."""

    name: str
    port: int
    server: ServerProcess

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.server.process

    @property
    def log(self) -> Path:
        return self.server.log

    @property
    def address(self) -> str:
        """How nginx names this instance in ``$upstream_addr`` (the X-Upstream header)."""
        return f"{HOST}:{self.port}"


class Cluster:
    """N instances on one database and one Redis, nginx in front; ``with`` starts and stops it.

    ``port=0`` lets the system pick free ports for nginx and the instances (tests); otherwise
    the instances take the ports after nginx's unless ``instance_port`` says where to start.
    ``env`` adds ``APP_*`` settings for every instance (e.g. rate limits); the settings that
    make it a cluster (database, Redis, secret, production mode, host and port) are fixed.
    """

    def __init__(
        self,
        *,
        database_url: str = DEFAULT_DATABASE_URL,
        redis_url: str = DEFAULT_REDIS_URL,
        run_dir: Path = DEFAULT_RUN_DIR,
        instances: int = 2,
        workers: int = 1,
        port: int = 8080,
        instance_port: int | None = None,
        secret_key: str | None = None,
        env: Mapping[str, str] | None = None,
        nginx: str | None = None,
        fail_timeout: int = 5,
        startup_timeout: float = 30,
        stop_timeout: float = 35,  # the service's own graceful shutdown takes up to 30 s
        tls: bool = False,
    ) -> None:
        if instances < 1 or workers < 1:
            raise ValueError("a cluster needs at least one instance of at least one worker")
        self.database_url = database_url
        self.redis_url = redis_url
        self.run_dir = run_dir.resolve()
        self.logs = self.run_dir / "logs"
        self.count = instances
        self.workers = workers
        self.port = port
        if instance_port is None:
            instance_port = port + 1 if port else 0
        self.instance_port = instance_port
        self.secret_key = secret_key
        self.env = dict(env or {})
        self.nginx = nginx or find_nginx()
        self.fail_timeout = fail_timeout
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        # nginx terminates TLS with a certificate for 127.0.0.1 from a CA made for this
        # run (run_dir/tls/ca.pem: give it to clients); the instances stay on plain HTTP.
        self.tls = tls
        self.ca_file = self.run_dir / "tls" / "ca.pem"
        self.instances: list[Instance] = []
        self._nginx_server: ServerProcess | None = None
        self._stopped = False

    @property
    def nginx_process(self) -> subprocess.Popen[bytes] | None:
        return self._nginx_server.process if self._nginx_server else None

    @property
    def url(self) -> str:
        """nginx, the cluster's one address."""
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Create and migrate the database, start the instances, then nginx; wait for all."""
        try:
            deadline = time.monotonic() + self.startup_timeout
            environment = self._prepare()
            self._start_instances(environment, deadline)
            self._start_nginx(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """nginx first, so nothing new arrives, then the instances: SIGTERM (SIGQUIT for
        nginx: finish what is in flight), wait, then SIGKILL whatever is left of each."""
        if self._stopped:
            return
        self._stopped = True
        if self._nginx_server is not None:
            _terminate([self._nginx_server], signal.SIGQUIT, timeout=10)
        _terminate([i.server for i in self.instances], signal.SIGTERM, self.stop_timeout)

    # Start-up, in order.

    def _prepare(self) -> dict[str, str]:
        if self.nginx is None or not Path(self.nginx).is_file():
            raise ClusterError(f"nginx not found ({self.nginx or 'not on PATH'})")
        for folder in (self.logs, self.run_dir / "temp"):
            folder.mkdir(parents=True, exist_ok=True)
        if self.tls:
            make_certificate(self.ca_file.parent)
        ensure_database(self.database_url)
        check_redis(self.redis_url)
        environment = {
            **os.environ,
            **self.env,
            "APP_ENVIRONMENT": "production",
            "APP_DATABASE_URL": self.database_url,
            "APP_REDIS_URL": self.redis_url,
            "APP_SECRET_KEY": self.secret_key or shared_secret(self.run_dir),
            "APP_TRUST_FORWARDED_FOR": "true",  # only nginx can reach the instances
            "APP_HOST": HOST,
            "APP_WORKERS": str(self.workers),
        }
        environment.pop("APP_PORT", None)
        # Each instance keeps its own metrics (a folder shared by instances would mix them).
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        # Once, before any instance starts, the way an operator would; its output (alembic's
        # progress) goes to the log rather than the terminal.
        log = self.logs / "migrate.log"
        with log.open("ab") as out:
            offset = out.tell()
            migrated = subprocess.run(
                [sys.executable, "-m", "server", "migrate"],
                cwd=ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
        if migrated.returncode != 0:
            raise ClusterError(f"migrations failed ({log}):\n{log_tail(log, offset=offset)}")
        return environment

    def _start_instances(self, environment: dict[str, str], deadline: float) -> None:
        choose = self.instance_port == 0
        if choose:
            ports = free_ports(self.count)
        else:
            ports = list(range(self.instance_port, self.instance_port + self.count))
        offsets = []
        for index, port in enumerate(ports, start=1):
            instance, offset = self._spawn_instance(f"instance-{index}", port, environment)
            self.instances.append(instance)
            offsets.append(offset)
        for position, offset in enumerate(offsets):
            instance = self.instances[position]
            for attempt in range(1, PORT_ATTEMPTS + 1):
                if _answering(instance.server, deadline):
                    break
                exited = instance.process.poll() is not None
                lost_race = exited and PORT_TAKEN.search(instance.server.log_tail())
                if not (choose and lost_race and attempt < PORT_ATTEMPTS):
                    raise ClusterError(_failure(instance.name, instance.server))
                instance.process.wait()
                port = free_ports(1)[0]
                instance, offset = self._spawn_instance(instance.name, port, environment)
                self.instances[position] = instance

    def _spawn_instance(
        self, name: str, port: int, environment: dict[str, str]
    ) -> tuple[Instance, int]:
        """The new instance, and where its output starts in its log."""
        server = ServerProcess.start(
            [sys.executable, "-m", "server", "serve"],
            url=f"http://{HOST}:{port}",
            log=self.logs / f"{name}.log",
            env={**environment, "APP_PORT": str(port)},
            cwd=ROOT,
        )
        return Instance(name=name, port=port, server=server), server.log_offset

    def _start_nginx(self, deadline: float) -> None:
        choose = self.port == 0
        log = self.logs / "nginx-error.log"
        config = self.run_dir / "nginx.conf"
        command = [self.nginx or "nginx", "-p", f"{self.run_dir}/", "-c", str(config)]
        command += ["-e", str(log), "-g", "daemon off;"]
        for attempt in range(1, PORT_ATTEMPTS + 1):
            if choose:
                self.port = free_ports(1)[0]
            config.write_text(self.nginx_config())
            checked = subprocess.run([*command, "-t", "-q"], capture_output=True, check=False)
            if checked.returncode != 0:
                raise ClusterError(f"nginx refuses {config}:\n{checked.stderr.decode()}")
            self._nginx_server = nginx = ServerProcess.start(
                command, url=self.url, log=log, env=os.environ
            )
            verify = ssl.create_default_context(cafile=self.ca_file) if self.tls else True
            if _answering(nginx, deadline, verify=verify):
                return
            exited = nginx.process.poll() is not None
            lost_race = exited and PORT_TAKEN.search(nginx.log_tail())
            if not (choose and lost_race and attempt < PORT_ATTEMPTS):
                raise ClusterError(_failure("nginx", nginx))
            nginx.process.wait()

    def nginx_config(self) -> str:
        """``deploy/nginx.conf.template`` filled in for this cluster."""
        servers = "\n".join(
            f"        server {i.address} max_fails=1 fail_timeout={self.fail_timeout}s;"
            for i in self.instances
        )
        max_body = self.env.get("APP_MAX_BODY_BYTES") or os.environ.get("APP_MAX_BODY_BYTES")
        tls = ""
        if self.tls:
            folder = self.ca_file.parent
            tls = (
                f"        ssl_certificate {folder / 'server.pem'};\n"
                f"        ssl_certificate_key {folder / 'server.key'};\n"
                "        ssl_protocols TLSv1.2 TLSv1.3;"
            )
        return render(
            TEMPLATE.read_text(),
            servers=servers,
            listen=f"{HOST}:{self.port}" + (" ssl" if self.tls else ""),
            tls=tls,
            max_body_bytes=str(int(max_body or DEFAULT_MAX_BODY_BYTES)),
        )

    def dead(self) -> list[Instance]:
        """The instances whose process has exited."""
        return [i for i in self.instances if i.process.poll() is not None]


# Helpers, usable on their own.


def find_nginx() -> str | None:
    """The nginx binary: on PATH, or where Debian puts it (often not on a user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on right now: the kernel's picks for port 0, all distinct."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def render(template: str, **values: str) -> str:
    """Fill ``{{ name }}`` placeholders (nginx's own ``$variables`` and braces stay as they are)."""

    def value(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise ClusterError(f"no value for {{{{ {match.group(1)} }}}}") from None

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", value, template)


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database of ``database_url`` unless it exists already."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        raise ClusterError(
            f"instances share one PostgreSQL database; got {url.render_as_string()!r}"
        )
    admin = url.set(drivername="postgresql", database="postgres")
    try:
        asyncio.run(_create_database(admin.render_as_string(hide_password=False), url.database))
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise ClusterError(
            f"PostgreSQL at {admin.render_as_string()} is not usable: {error}"
        ) from error


async def _create_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            await connection.execute(f"CREATE DATABASE {quoted}")
        except asyncpg.DuplicateDatabaseError:
            pass  # created by someone else in the meantime
    finally:
        await connection.close()


def check_redis(redis_url: str) -> None:
    """Fail now rather than later: without Redis each instance would count on its own."""
    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        raise ClusterError(f"Redis at {redis_url} is not reachable: {error}") from error
    finally:
        client.close()


def shared_secret(run_dir: Path) -> str:
    """``APP_SECRET_KEY`` from the environment, else one kept in the run folder, so that
    tokens and cursors stay valid across instances and restarts."""
    configured = os.environ.get("APP_SECRET_KEY")
    if configured:
        return configured
    path = run_dir / SECRET_FILE
    if path.exists():
        stored = path.read_text().strip()
        if len(stored) >= MIN_SECRET_CHARS:
            return stored
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(secret + "\n")
    return secret


def make_certificate(folder: Path) -> None:
    """A certificate authority made for this run and a certificate for 127.0.0.1 it
    signed: ``ca.pem`` (for clients), ``server.pem`` and ``server.key`` (for nginx)."""
    import trustme  # a dev dependency: make cluster installs it with the rest

    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="contract-api make cluster")
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    issued = authority.issue_cert(HOST, "localhost")
    chain = folder / "server.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    key = folder / "server.key"
    key.touch(mode=0o600)
    issued.private_key_pem.write_to_path(str(key))


def _answering(
    server: ServerProcess, deadline: float, *, verify: ssl.SSLContext | bool = True
) -> bool:
    """True once ``GET {url}/api/health/ready`` answers 200; False if the process exits
    first or the deadline passes."""
    seconds = max(0.0, deadline - time.monotonic())
    return server.wait_answering(READY_PATH, seconds=seconds, verify=verify) is not None


def _terminate(servers: list[ServerProcess], sig: int, timeout: float) -> None:
    """Signal every live one, give them all ``timeout`` together, then SIGKILL the process
    group of each (also what a master leaves behind, e.g. nginx workers)."""
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(sig)
    deadline = time.monotonic() + timeout
    for server in servers:
        server.stop(sig=sig, grace=max(0.0, deadline - time.monotonic()))


def _failure(name: str, server: ServerProcess) -> str:
    code = server.process.poll()
    state = f"exited with {code}" if code is not None else "did not answer in time"
    return f"{name} {state}; {server.log} ends with:\n{server.log_tail()}"


# The command.


class _Interrupted(Exception):
    pass


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise _Interrupted(signal.Signals(signum).name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.cluster",
        description="Start N instances of the service on one PostgreSQL and one Redis, "
        "behind nginx; Ctrl-C stops them all.",
    )
    parser.add_argument("--instances", type=int, default=2, help="how many (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per instance")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port (default 8080)")
    parser.add_argument(
        "--instance-port",
        type=int,
        default=None,
        help="port of the first instance, the others follow (default: --port + 1; 0: any free)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("APP_DATABASE_URL", DEFAULT_DATABASE_URL),
        help=f"PostgreSQL, created if missing (APP_DATABASE_URL, default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("APP_REDIS_URL", DEFAULT_REDIS_URL),
        help=f"shared rate limits (APP_REDIS_URL, default {DEFAULT_REDIS_URL})",
    )
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="var/cluster/")
    parser.add_argument("--nginx", default=None, help="the nginx binary (default: found)")
    parser.add_argument("--fail-timeout", type=int, default=5, help="seconds out of rotation")
    parser.add_argument(
        "--tls",
        action="store_true",
        help="nginx serves HTTPS with a certificate made for the run (run folder tls/ca.pem)",
    )
    return parser


def _announce(cluster: Cluster) -> None:
    database = make_url(cluster.database_url).render_as_string(hide_password=True)
    print(f"cluster up: {len(cluster.instances)} instances behind nginx", flush=True)
    print(f"  nginx        {cluster.url}/api/  (Swagger UI: /api/ui/)")
    for instance in cluster.instances:
        print(f"  {instance.name:<12} {instance.url}/api/  pid {instance.process.pid}")
    print(f"  database     {database}")
    print(f"  redis        {cluster.redis_url}")
    print(f"  run folder   {cluster.run_dir}  (nginx.conf, logs/)")
    if cluster.tls:
        print(f"  CA bundle    {cluster.ca_file}  (curl --cacert, SSL_CERT_FILE=)")
    print("Ctrl-C stops nginx, then the instances.", flush=True)


def _watch(cluster: Cluster) -> int:
    """Until a signal: report instances that die (nginx routes around them); return 1 if
    nginx itself goes."""
    reported: set[str] = set()
    assert cluster.nginx_process is not None
    while cluster.nginx_process.poll() is None:
        for instance in cluster.dead():
            if instance.name not in reported:
                reported.add(instance.name)
                print(
                    f"{instance.name} exited ({instance.process.returncode}); nginx routes "
                    f"around it. Log: {instance.log}",
                    file=sys.stderr,
                    flush=True,
                )
        time.sleep(0.5)
    print(f"nginx exited ({cluster.nginx_process.returncode}); stopping", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cluster = Cluster(
        database_url=args.database_url,
        redis_url=args.redis_url,
        run_dir=args.run_dir,
        instances=args.instances,
        workers=args.workers,
        port=args.port,
        instance_port=args.instance_port,
        nginx=args.nginx,
        fail_timeout=args.fail_timeout,
        tls=args.tls,
    )
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        cluster.start()
        _announce(cluster)
        return _watch(cluster)
    except _Interrupted as interrupted:
        print(f"{interrupted}: stopping", file=sys.stderr, flush=True)
        return 0
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
