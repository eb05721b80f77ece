"""A corpus of invoices made through the API, every creation path, and the check of their e-invoices.

`check_documents` fetches every document an invoice has in every profile (UBL and CII en16931, UBL
Peppol, UBL and CII XRechnung, the CII inside the Factur-X PDF) and validates each with the official
rule sets; it returns what failed rather than stopping at the first, so one run shows every problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from document_api import SELLER_DETAILS, embedded_files
from fastapi.testclient import TestClient

from factories import create_customer
from official_validator import EXPECTED_LAYERS, OfficialValidator

# (syntax, profile) of every XML document; the Factur-X PDF embeds the en16931 CII.
XML_PROFILES = [
    ("ubl", "en16931"),
    ("cii", "en16931"),
    ("ubl", "peppol"),
    ("ubl", "xrechnung"),
    ("cii", "xrechnung"),
]
# A GLN with a valid check digit: a Peppol participant id (scheme 0088), unlike an e-mail address.
BUYER_GLN = "4000001000005"
SELLER_GLN = "4312345000000"
PEPPOL_BUYER = {
    "electronic_address": BUYER_GLN,
    "electronic_address_scheme": "0088",
    "buyer_reference": "04011000-12345-34",
}
FOREIGN_BUYERS = {
    "FR": {
        "name": "Atelier Lumière SARL",
        "address_line1": "12 rue de la Paix",
        "city": "Paris",
        "postal_code": "75002",
        "country": "FR",
        "vat_id": "FR40303265045",
        "locale": "fr",
    },
    "US": {
        "name": "Hudson Tools Inc.",
        "address_line1": "350 Fifth Avenue",
        "city": "New York",
        "postal_code": "10118",
        "country": "US",
        "vat_id": None,
        "locale": "en",
    },
    "CH": {
        "name": "Bergblick Treuhand AG",
        "address_line1": "Bahnhofstrasse 1",
        "city": "Zürich",
        "postal_code": "8001",
        "country": "CH",
        "vat_id": None,
        "locale": "de",
    },
}
SELLER_WITHOUT_VAT_ID = {
    **SELLER_DETAILS,
    "vat_id": None,
    "tax_registration_id": "21/815/08150",
    "legal_registration_id": "HRA 4711 (Amtsgericht Potsdam)",
    "electronic_address": SELLER_GLN,
    "electronic_address_scheme": "0088",
}


def buyer(client: TestClient, headers: dict[str, str], country: str = "DE", **changes: Any) -> str:
    fields = {**PEPPOL_BUYER, **FOREIGN_BUYERS.get(country, {}), **changes}
    return create_customer(client, headers, **fields)["id"]


def _findings(validator: OfficialValidator, xml: bytes, syntax: str, profile: str, label: str) -> list[str]:
    report = validator.validate(xml)
    problems = []
    if report.layers != EXPECTED_LAYERS[(syntax, profile)]:
        problems.append(f"{label}: validated with {report.layers}")
    problems += [f"{label}: {finding}" for finding in report.fatal]
    return problems


def _refused_for(response: Any, rules: set[str]) -> bool:
    if response.status_code != 422 or not rules:
        return False
    error = response.json()["error"]
    reasons = [detail["reason"] for detail in error.get("details", [])]
    cited = error["code"] == "document_data_missing" and bool(reasons)
    return cited and all(any(rule in reason for rule in rules) for reason in reasons)


def check_documents(
    client: TestClient,
    headers: dict[str, str],
    validator: OfficialValidator,
    invoice_id: str,
    label: str,
    profiles: Iterable[tuple[str, str]] = XML_PROFILES,
    facturx: bool = True,
    refusable: Mapping[tuple[str, str], set[str]] | None = None,
    resource: str = "invoices",
    facturx_profiles: Iterable[str] = ("en16931",),
) -> list[str]:
    """Every failure of the invoice's documents: a status other than 200, or a fatal finding.

    `refusable` names, per (syntax, profile), the rules a 422 `document_data_missing` may cite instead
    of a document (every reason it gives must cite one of them). `resource="credit-notes"` checks the
    documents of the credit note `invoice_id` instead; `facturx_profiles` are the profiles whose
    Factur-X PDF is fetched (with `facturx`) and its embedded CII validated.
    """
    failures = []
    for syntax, profile in profiles:
        name = f"{label} {syntax}/{profile}"
        response = client.get(
            f"/v1/{resource}/{invoice_id}/{syntax}", params={"profile": profile}, headers=headers
        )
        if _refused_for(response, (refusable or {}).get((syntax, profile), set())):
            continue
        if response.status_code != 200:
            failures.append(f"{name}: HTTP {response.status_code} {response.text[:400]}")
            continue
        failures += _findings(validator, response.content, syntax, profile, name)
    for profile in facturx_profiles if facturx else ():
        name = f"{label} Factur-X" + ("" if profile == "en16931" else f" ({profile})")
        pdf = client.get(
            f"/v1/{resource}/{invoice_id}/pdf",
            params={"embed": "true", **({} if profile == "en16931" else {"profile": profile})},
            headers=headers,
        )
        if pdf.status_code != 200:
            failures.append(f"{name}: HTTP {pdf.status_code} {pdf.text[:400]}")
        else:
            failures += _findings(
                validator, embedded_files(pdf.content)["factur-x.xml"], "cii", profile, name
            )
    return failures
