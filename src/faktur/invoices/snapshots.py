"""Seller and buyer details copied onto an invoice, so later edits never change it (rule 4)."""

from __future__ import annotations

from typing import Any

from faktur.models import Customer, Organisation

CUSTOMER_FIELDS = (
    "name",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "postal_code",
    "country",
    "vat_id",
    "legal_registration_id",
    "locale",
    "buyer_reference",
    "electronic_address",
    "electronic_address_scheme",
    "external_reference",
    "payment_means",
)
SELLER_FIELDS = (
    "legal_name",
    "trading_name",
    "address_line1",
    "address_line2",
    "city",
    "postal_code",
    "country",
    "vat_id",
    "tax_registration_id",
    "legal_registration_id",
    "electronic_address",
    "electronic_address_scheme",
    "email",
    "phone",
    "contact_name",
    "iban",
    "bic",
    "sepa_creditor_id",
    "register_court",
    "register_number",
    "managing_directors",
)


def customer_snapshot(customer: Customer) -> dict[str, Any]:
    return {"id": str(customer.id), **{name: getattr(customer, name) for name in CUSTOMER_FIELDS}}


def seller_snapshot(organisation: Organisation) -> dict[str, Any]:
    return {"id": str(organisation.id), **{name: getattr(organisation, name) for name in SELLER_FIELDS}}
