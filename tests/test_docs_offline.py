"""/docs in a real headless Chromium: Swagger UI from packaged assets, nothing loaded from elsewhere.

Chromium resolves no host name but 127.0.0.1 (as on a machine without the internet), and its
performance log lists every request the page made. Debian's `chromium` and `chromium-driver`
are installed by `scripts/bootstrap test`.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from conftest import _free_port
from faktur.app import create_app
from faktur.config import Settings

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a test dependency")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMEDRIVER is None or shutil.which("chromium") is None,
    reason="Debian's chromium and chromium-driver are not installed (scripts/bootstrap test installs them "
    "when apt-get can)",
)


@pytest.fixture
def served_docs(tmp_path: Path) -> Iterator[str]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'docs.sqlite3'}"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,2000",
        # Offline: no name resolves but loopback, so a page that needed a CDN would stay blank.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--no-proxy-server",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_docs_render_the_operations_offline_and_request_only_loopback(
    served_docs: str, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    browser.get(f"{served_docs}/docs")
    WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_all_elements_located((By.CSS_SELECTOR, ".opblock"))
    )
    paths = {element.text for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/v1/invoices", "/v1/invoices/{invoice_id}/pdf", "/v1/customers"} <= paths, paths
    assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) >= 40
    browser.save_screenshot(str(tmp_path / "docs.png"))
    assert (tmp_path / "docs.png").stat().st_size > 10_000

    urls = requested_urls(browser)
    assert f"{served_docs}/static-offline-docs/swagger-ui-bundle.js" in urls
    assert f"{served_docs}/openapi.json" in urls
    elsewhere = [url for url in urls if not url.startswith((f"{served_docs}/", "data:", "blob:"))]
    assert elsewhere == []
