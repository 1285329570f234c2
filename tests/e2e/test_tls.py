"""HTTPS from ``python -m server`` itself (``APP_TLS_CERTFILE``/``APP_TLS_KEYFILE``), with a
certificate authority made for the test (trustme): the generated client and the CLI
trust it when told to, and refuse the certificate when not."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from contract_api_client import AuthenticatedClient
from contract_api_client.api.users import list_users

from server import migrate
from tests import identities
from tests.databases import sqlite_url
from tests.e2e.conftest import ROOT, LiveServer, start_server
from tests.identities import ALICE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ca, ca_file


@pytest.fixture(scope="module")
def https_server(
    tmp_path_factory: pytest.TempPathFactory, authority: tuple[trustme.CA, Path]
) -> Iterator[LiveServer]:
    ca, ca_file = authority
    folder = tmp_path_factory.mktemp("tls")
    certificate = ca.issue_cert("127.0.0.1")
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    for extra in certificate.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_file), append=True)
    certificate.private_key_pem.write_to_path(str(key_file))
    database_url = sqlite_url(folder / "tls.db")
    migrate.upgrade(database_url)
    identities.seed(database_url)
    server = start_server(
        database_url,
        folder / "server.log",
        ca_file=ca_file,
        APP_TLS_CERTFILE=str(cert_file),
        APP_TLS_KEYFILE=str(key_file),
    )
    try:
        yield server
    finally:
        server.stop()


def test_https_is_served_with_hsts(
    https_server: LiveServer, authority: tuple[trustme.CA, Path]
) -> None:
    assert https_server.url.startswith("https://")
    trusted = ssl.create_default_context(cafile=str(authority[1]))
    answer = httpx.get(f"{https_server.url}/api/hello", verify=trusted, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_an_untrusted_certificate_is_refused(https_server: LiveServer) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https_server.url}/api/hello", timeout=5)  # the system's CAs only


def test_the_generated_client_names_its_ca_bundle(
    https_server: LiveServer, authority: tuple[trustme.CA, Path]
) -> None:
    context = ssl.create_default_context(cafile=str(authority[1]))
    with AuthenticatedClient(
        base_url=f"{https_server.url}/api",
        token=ALICE.secret,
        prefix="",
        auth_header_name="X-API-Key",
        verify_ssl=context,
        timeout=5,
    ) as client:
        page = list_users.sync_detailed(client=client)
    assert page.status_code == 200


def cli(server: LiveServer, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(server.log.parent),
            "CONTRACT_API_URL": server.url,
            "CONTRACT_API_KEY": ALICE.secret,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_trusts_the_bundle_in_ssl_cert_file(
    https_server: LiveServer, authority: tuple[trustme.CA, Path]
) -> None:
    done = cli(https_server, "hello", SSL_CERT_FILE=str(authority[1]))
    assert done.returncode == 0, done.stderr
    assert "Hello" in done.stdout


def test_the_cli_refuses_an_untrusted_certificate_in_one_line(https_server: LiveServer) -> None:
    done = cli(https_server, "hello")
    assert done.returncode != 0
    assert "TLS failed with" in done.stderr
    assert "Traceback" not in done.stderr
