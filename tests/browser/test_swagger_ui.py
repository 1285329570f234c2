"""Swagger UI at /api/ui/, driven as a person would: authorize, try an operation, execute.

The served page, the spec it loads and the security headers must all let it work; these
tests see what the person sees (the rendered status code), and the request that went out.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import yaml

from tests.browser.conftest import Screenshot
from tests.e2e.conftest import ROOT
from tests.identities import ALICE

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Response

pytestmark = pytest.mark.e2e

SPEC = ROOT / "spec" / "openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PROCESS_EXAMPLE = {"user_id": 1, "item_id": 42, "quantity": 3}  # spec/openapi.yaml's example


def open_ui(page: Page) -> None:
    page.goto("/api/ui/")
    page.locator(".opblock").first.wait_for()


def operation(page: Page, tag: str, operation_id: str) -> Locator:
    return page.locator(f"#operations-{tag}-{operation_id}")


def authorize_with_api_key(page: Page, api_key: str) -> None:
    page.locator(".btn.authorize").first.click()
    modal = page.locator(".modal-ux")
    scheme = modal.locator(".auth-container", has=page.locator("h4", has_text="ApiKeyAuth"))
    scheme.locator("input").fill(api_key)
    scheme.get_by_role("button", name="Authorize", exact=True).click()
    # Swagger UI swaps the input for "Authorized" and a Logout button once it holds the key.
    scheme.get_by_role("button", name="Logout").wait_for()
    scheme.get_by_role("button", name="Close").click()
    modal.wait_for(state="detached")


def try_it_out(block: Locator) -> None:
    block.locator(".opblock-summary").click()
    block.locator(".try-out__btn").click()


def execute(page: Page, block: Locator, method: str, path: str) -> Response:
    """Press "Execute"; return the response the browser got."""
    with page.expect_response(
        lambda response: response.request.method == method and response.url.endswith(path)
    ) as answer:
        block.locator(".execute").click()
    return answer.value


def rendered_status(block: Locator) -> str:
    """The status code Swagger UI shows under "Server response"."""
    status = block.locator(".live-responses-table .response .response-col_status")
    status.wait_for()
    return status.inner_text().strip()


def spec_operations() -> set[str]:
    """The element id Swagger UI gives each operation of the spec, under each of its tags."""
    spec = yaml.safe_load(SPEC.read_text())
    return {
        f"operations-{tag}-{operation['operationId']}"
        for path in spec["paths"].values()
        for method, operation in path.items()
        if method in HTTP_METHODS
        for tag in operation.get("tags", ["default"])
    }


def test_ui_lists_every_operation(page: Page, problems: list[str]) -> None:
    open_ui(page)

    assert page.locator(".info .title").inner_text().startswith("Contract API")
    shown = page.locator(".opblock").evaluate_all("blocks => blocks.map(block => block.id)")
    assert set(shown) == spec_operations()
    assert page.locator(".btn.authorize").first.is_visible()
    assert problems == []


def test_the_first_screen_shows_operations(
    page: Page, problems: list[str], screenshot: Screenshot
) -> None:
    """The API's rules are folded under the title: the first operation is on screen."""
    open_ui(page)
    rules = page.locator(".info details")
    assert rules.locator("summary").inner_text().startswith("The rules every operation follows")
    assert rules.get_attribute("open") is None  # folded until someone opens it
    first = page.locator(".opblock").first.bounding_box()
    viewport = page.viewport_size
    assert first is not None and viewport is not None
    assert first["y"] + first["height"] < viewport["height"]
    screenshot(page, "first-screen")
    assert problems == []


def test_a_shared_error_shows_its_own_example(page: Page, problems: list[str]) -> None:
    """The 403 of an operation shows an insufficient-scope problem, not a validation one."""
    open_ui(page)
    clients = operation(page, "clients", "list_clients")
    clients.locator(".opblock-summary").click()
    forbidden = clients.locator("tr.response[data-code='403']")
    assert "urn:contract-api:problem:insufficient-scope" in forbidden.inner_text()
    too_many = clients.locator("tr.response[data-code='429']")
    assert "urn:contract-api:problem:rate-limited" in too_many.inner_text()
    assert problems == []


def test_hello_executes_without_credentials(page: Page, problems: list[str]) -> None:
    open_ui(page)
    hello = operation(page, "greetings", "hello")

    try_it_out(hello)
    response = execute(page, hello, "GET", "/api/hello")

    assert response.status == 200
    assert response.json() == {"message": "Hello, World!"}
    assert rendered_status(hello) == "200"
    assert (
        "Hello, World!"
        in hello.locator(".live-responses-table .response .response-col_description").inner_text()
    )
    assert problems == []


def test_process_data_executes_with_the_authorized_api_key(
    page: Page, problems: list[str], screenshot: Screenshot
) -> None:
    open_ui(page)
    authorize_with_api_key(page, ALICE.secret)
    process = operation(page, "processing", "process_data")

    try_it_out(process)
    # Swagger UI pre-fills the spec's example; as it stands, it must be a valid request.
    body = process.locator("textarea.body-param__text")
    assert json.loads(body.input_value()) == PROCESS_EXAMPLE
    response = execute(page, process, "POST", "/api/process_data")

    assert response.request.header_value("x-api-key") == ALICE.secret
    assert response.status == 200, response.text()
    assert response.json()["result"] == {**PROCESS_EXAMPLE, "quantity": 6}
    assert rendered_status(process) == "200"
    screenshot(page, "swagger-ui")
    screenshot(process, "swagger-ui-process-data")
    assert problems == []
