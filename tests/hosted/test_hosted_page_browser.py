"""The hosted invoice page in a real headless Chromium (Debian's chromium + chromium-driver, driven by
Selenium): it renders in en/de/fr without console errors and loads nothing but faktur's own URLs, its
download links return the stored documents, its GiroCode decodes (zbarimg) to the amount due, and a
rotated or wrong token shows the not-found page.

FAKTUR_UPDATE_SCREENSHOTS=1 also writes docs/hosted-page.png (the README's screenshot).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Tenant
from hosted.test_giro_code import ZBARIMG, assert_valid_epc, decode_qr
from hosted.test_hosted_page import IBAN
from test_docs_offline import CHROMEDRIVER, requested_urls

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a test dependency")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMEDRIVER is None or shutil.which("chromium") is None,
        reason="Debian's chromium and chromium-driver are not installed (scripts/bootstrap test)",
    ),
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "hosted-page.png"


@pytest.fixture
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1100,1500",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--no-proxy-server",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def issue(api: httpx.Client, tenant: Tenant, locale: str) -> dict[str, Any]:
    headers = tenant.headers
    organisation = {"iban": IBAN, "bic": "COBADEFFXXX", "email": "billing@seller.example"}
    assert api.patch("/v1/organisation", json=organisation, headers=headers).status_code == 200
    buyer = {
        "name": {"en": "Acme Ltd", "de": "Kunde AG", "fr": "Client SARL"}[locale],
        "email": "ap@buyer.example",
        "address_line1": "Ringstraße 9",
        "city": "München",
        "postal_code": "80331",
        "country": "DE",
        "vat_id": "DE123456788",
        "locale": locale,
    }
    customer = api.post("/v1/customers", json=buyer, headers=headers).json()
    lines = [
        {
            "description": "Consulting",
            "quantity": "8",
            "unit_price": "120.00",
            "tax": {"category": "S", "percent": "19"},
        },
        {
            "description": "Travel",
            "quantity": "1",
            "unit_price": "80.00",
            "tax": {"category": "S", "percent": "7"},
        },
    ]
    body = {"customer_id": customer["id"], "lines": lines, "finalize": True}
    invoice = api.post("/v1/invoices", json=body, headers=headers)
    assert invoice.status_code == 201, invoice.text
    return invoice.json()


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.parametrize(
    ("locale", "amount_due_label", "download_label"),
    [
        ("en", "Amount due", "Download PDF"),
        ("de", "Zahlbetrag", "PDF herunterladen"),
        ("fr", "Montant", "Télécharger le PDF"),
    ],
)
def test_the_hosted_page_in_chromium(
    live_server: str,
    tenant: Tenant,
    browser: Any,
    tmp_path: Path,
    locale: str,
    amount_due_label: str,
    download_label: str,
) -> None:
    from selenium.webdriver.common.by import By

    api = httpx.Client(base_url=live_server, timeout=30)
    invoice = issue(api, tenant, locale)
    url = invoice["hosted_url"]
    assert url.startswith(f"{live_server}/hosted/invoices/")

    browser.get(url)
    assert invoice["number"] in browser.find_element(By.TAG_NAME, "h1").text
    body = browser.find_element(By.TAG_NAME, "body").text
    assert amount_due_label in body
    assert browser.find_element(By.ID, "download-pdf").text == download_label
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == locale
    # The style sheet applied (served by faktur, allowed by the CSP): the page is not unstyled.
    background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(245, 245, 247)"
    assert console_errors(browser) == []
    urls = requested_urls(browser)
    assert [u for u in urls if not u.startswith((f"{live_server}/", "data:"))] == []

    # The download links return the stored documents, byte for byte.
    for link_id, api_path in (("download-pdf", "pdf"), ("download-xml", "ubl")):
        href = browser.find_element(By.ID, link_id).get_attribute("href")
        downloaded = httpx.get(href, timeout=30)
        stored = api.get(f"/v1/invoices/{invoice['id']}/{api_path}", headers=tenant.headers)
        assert downloaded.status_code == 200 and stored.status_code == 200
        assert downloaded.content == stored.content, link_id

    screenshot = tmp_path / "page.png"
    browser.find_element(By.ID, "giro-code").screenshot(str(screenshot))
    if ZBARIMG:
        [payload] = decode_qr(screenshot)
        assert_valid_epc(payload, invoice["amount_due"], invoice["number"])
    if locale == "en" and os.environ.get("FAKTUR_UPDATE_SCREENSHOTS"):
        browser.save_screenshot(str(SCREENSHOT))

    # Rotated: the old link is the not-found page, the new one works; a wrong token too.
    rotated = api.post(f"/v1/invoices/{invoice['id']}/hosted-link/rotate", headers=tenant.headers).json()
    for dead in (url, url[:-4] + "AAAA", f"{live_server}/hosted/invoices/nothing"):
        browser.get(dead)
        assert invoice["number"] not in browser.page_source
        assert browser.find_element(By.TAG_NAME, "h1").text in {"Invoice not found"}
    browser.get(rotated["hosted_url"])
    assert invoice["number"] in browser.find_element(By.TAG_NAME, "h1").text
    errors = console_errors(browser)
    # The not-found pages answer 404, which Chromium logs as a failed resource; nothing else.
    assert all("404" in entry["message"] for entry in errors), errors
