"""Words for the OpenAPI document: property descriptions, operation ids, request examples.

A property described on its model (`Field(description=...)`) keeps that description. One that is
not takes, in this order: an entry of SCHEMA_PROPERTIES for its schema, the description of the same
property on a sibling schema (`CustomerOut.vat_id` from `CustomerCreate.vat_id`), or an entry of
PROPERTIES for its name. `tests/test_openapi.py` fails for a property left without any.
"""

from __future__ import annotations

import re
from typing import Any

DIALECT_NAMES = {
    "axim": "Axim",
    "iw_erp": "IwErp",
    "wingback": "Wingback",
    "wizcommerce": "WizCommerce",
    "zenskar": "Zenskar",
}


def operation_id(path: str, name: str) -> str:
    """The route function's name; a dialect's is prefixed with the dialect (`zenskar_generate_invoice`)."""
    match = re.match(r"^/compat/([\w-]+)/", path)
    return f"{match.group(1).replace('-', '_')}_{name}" if match else name


# Schemas whose properties mean the same as those of another family.
_SIBLINGS = {
    "InvoicePreview": "Invoice",
    "FlatComponent": "Component",
    "OneOffComponent": "Component",
    "UsageComponent": "Component",
    "Terms": "Contract",
}


def _family(schema: str) -> str:
    stem = re.sub(r"(Create|Update|Out|In)$", "", schema)
    return _SIBLINGS.get(stem, stem)


def describe_properties(schemas: dict[str, Any]) -> None:
    for name, schema_description in SCHEMA_DESCRIPTIONS.items():
        if name in schemas:
            schemas[name]["description"] = schema_description
    borrowed: dict[tuple[str, str], str] = {}
    for name, schema in schemas.items():
        for prop, value in schema.get("properties", {}).items():
            if isinstance(value, dict) and value.get("description"):
                borrowed.setdefault((_family(name), prop), value["description"])
    for name, schema in schemas.items():
        for prop, value in schema.get("properties", {}).items():
            if not isinstance(value, dict) or value.get("description"):
                continue
            description = (
                SCHEMA_PROPERTIES.get(name, {}).get(prop)
                or borrowed.get((_family(name), prop))
                or PROPERTIES.get(prop)
            )
            if description:
                value["description"] = description


def add_example(operation: dict[str, Any]) -> None:
    """An example on the JSON request body of the operations the README walks through."""
    example = EXAMPLES.get(operation.get("operationId", ""))
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if example is not None and body is not None:
        body["example"] = example


# By property name, where the name means the same in every schema that has it.
PROPERTIES: dict[str, str] = {
    "id": "Unique id (UUID) of this object",
    "created_at": "When it was created (UTC, ISO 8601)",
    "updated_at": "When it was last changed (UTC, ISO 8601)",
    "metadata": "Your own key-value data, stored and returned unchanged",
    "data": "The objects of this page",
    "has_more": "True when there are more objects after this page",
    "next_cursor": "Pass as `cursor` to get the next page; null on the last page",
    "customer_id": "A customer of the organisation (its id)",
    "contract_id": "A contract of the organisation (its id)",
    "invoice_id": "An invoice of the organisation (its id)",
    "item_id": "A pending invoice item of the organisation (its id)",
    "tax_rate_id": "A tax rate of the organisation (its id), instead of an inline `tax`",
    "metric_id": "The billable metric (its id)",
    "metric_code": "The billable metric's code, e.g. api_calls",
    "currency": "ISO 4217 currency code, e.g. EUR",
    "name": "Name, as shown to people",
    "legal_name": "Registered legal name (EN 16931 BT-27)",
    "trading_name": "Trading name, if other than the legal name (BT-28)",
    "address_line1": "Street and number",
    "address_line2": "Additional address line",
    "city": "City",
    "postal_code": "Postal code",
    "country": "ISO 3166-1 alpha-2 country code, e.g. DE",
    "email": "E-mail address",
    "phone": "Telephone number",
    "contact_name": "Contact person (XRechnung needs one for the seller)",
    "vat_id": "VAT identifier with its country prefix, e.g. DE123456788 (checked)",
    "tax_registration_id": "Tax number other than the VAT id, e.g. a German Steuernummer (BT-32)",
    "legal_registration_id": "Company register number, e.g. HRB 12345 (BT-30 / BT-47)",
    "electronic_address": "Electronic address for e-invoices, e.g. a Peppol participant id or an e-mail",
    "electronic_address_scheme": (
        "Scheme of the electronic address (EAS code), e.g. 0088 or 9930; Peppol documents refuse EM (e-mail)"
    ),
    "iban": "IBAN for credit transfers, printed on invoices (XRechnung needs it)",
    "bic": "BIC of the IBAN's bank",
    "default_currency": "Currency of invoices that name none",
    "payment_terms_days": "Days from the issue date until payment is due",
    "number_reset": "When the invoice counter starts again at 1: yearly or never",
    "number_format": "How invoice numbers are written, e.g. INV-{YYYY}-{SEQ:05}",
    "buyer_reference": "EN 16931 BT-10: the buyer's reference, e.g. a Leitweg-ID (XRechnung, Peppol)",
    "external_reference": "Your own reference for it, e.g. an id in another system",
    "locale": "Language of documents: en, de or fr",
    "due_date": "When payment is due",
    "memo": "Free text printed on the invoice",
    "description": "What it is, as printed on the invoice",
    "sku": "Article number (SKU)",
    "quantity": "Quantity, a decimal string (up to 6 decimals)",
    "unit_code": "UN/ECE Recommendation 20 unit code, e.g. C62 (piece), HUR (hour)",
    "unit_price": "Price per unit, a decimal string (up to 6 decimals)",
    "amount": "Amount, a decimal string in the currency's minor units",
    "percent": 'Percentage, a decimal string, e.g. "19"',
    "category": "EN 16931 VAT category code (UNCL5305): S Z E AE K G O L M",
    "exemption_reason": "Why no or reduced VAT applies (BT-120); required for E, AE, K, G, O",
    "exemption_reason_code": "VATEX code of the exemption reason, e.g. VATEX-EU-AE (BT-121)",
    "tax": "Inline tax (category, percent, exemption), instead of a tax_rate_id",
    "reason": "Why, in words",
    "reason_code": "UNCL5189 (allowances) or UNCL7161 (charges) reason code",
    "kind": "Which kind it is",
    "position": "Position in its list, from 1",
    "period_start": "First day of the service period",
    "period_end": "Exclusive end of the service period (the first day after it)",
    "payment_mode": "automatic (collected by a payment integration) or manual (the customer pays)",
    "prices_include_tax": "True when unit prices are gross (tax included)",
    "start_date": "First day the contract covers",
    "end_date": "Exclusive end: the first day the contract no longer covers; null when open-ended",
    "billing_interval": "Length of a billing period: month, quarter or year",
    "billing_timing": "When flat fees are billed: in_advance or in_arrears (usage always in arrears)",
    "billing_cycle_start_day": "Day of the month periods start on (1-31; 29-31 clamp to short months)",
    "components": "What the contract charges: flat fees, one-off fees and usage",
    "charge_model": "How usage is priced: per_unit, graduated, volume or package, with its prices",
    "transaction_id": "The sender's unique id of the event; a repeat is recorded once",
    "timestamp": "When the usage happened (UTC, ISO 8601)",
    "properties": "The event's properties; numbers are kept as exact decimal strings",
    "index": "Position of the event in the request's `events`, from 0",
    "field": "The field at fault",
    "code": "Stable snake_case code",
    "lines": "The lines, in order",
    "tax_breakdown": "VAT per (category, rate) group: taxable amount and tax, rounded once per group",
    "adjustments": "Document-level allowances and charges",
    "allowances": "Allowances (discounts) on this line",
    "charges": "Charges (surcharges) on this line",
    "version": "Terms version, from 1",
    "effective_from": "First day these terms apply",
    "method": "How it was paid, e.g. sepa, card, cash",
    "reference": "Payment reference, e.g. the bank transaction id",
    "paid_on": "Day the payment was received",
    "status": "Current status",
    "units": "Units counted for the period by the metric's aggregation",
    "events": "The events",
}

# By schema, where a property needs words of its own.
SCHEMA_PROPERTIES: dict[str, dict[str, str]] = {
    "InvoiceOut": {
        "number": "Invoice number (BT-1), assigned at finalization; null for drafts",
        "status": "draft, open, paid, void or uncollectible",
        "payment_status": "unpaid, partially_paid, paid or overpaid (amount paid against total)",
        "issue_date": "Issue date (BT-2): the UTC day of finalization; null for drafts",
        "finalized_at": "When the invoice was finalized; null for drafts",
        "amount_paid": "Sum of recorded payments",
        "amount_due": "Total less amount paid (0.00 when paid or overpaid)",
        "payments": "Payments recorded against the invoice",
        "status_history": "Every status transition: from, to, who and when",
        "period_start": "First day of the billing period (contract invoices)",
        "period_end": "Exclusive end of the billing period (contract invoices)",
    },
    "InvoiceLineOut": {
        "allowance_total": "Sum of the line's allowances",
        "charge_total": "Sum of the line's charges",
        "id": "Line id; null in previews",
    },
    "TaxBreakdownOut": {
        "taxable_amount": "Taxable amount of the group (BT-116)",
        "tax_amount": "Tax of the group (BT-117), rounded once",
    },
    "StatusChangeOut": {
        "from_status": "Status before; null for the creation",
        "to_status": "Status after",
        "actor": "Who made the change, e.g. api_key:fk_AbCdEfG (the key's prefix) or billing_run",
        "at": "When (UTC)",
    },
    "TransitionIn": {"reason": "Why the invoice is voided or marked uncollectible; kept in its history"},
    "AdjustmentIn": {
        "amount": "Fixed amount of the allowance or charge",
        "percent": "Percentage of the base, instead of a fixed amount",
    },
    "AdjustmentOut": {
        "amount": "Amount of the allowance or charge",
        "percent": "Percentage of the base, when given as one",
    },
    "DocumentAdjustmentIn": {
        "kind": "allowance (a discount) or charge (a surcharge) on the whole invoice",
        "amount": "Fixed amount, instead of a percent of base_amount",
        "percent": "Percentage of base_amount, instead of a fixed amount",
        "tax": "Inline tax of the adjustment, instead of tax_rate_id",
    },
    "DocumentAdjustmentOut": {
        "kind": "allowance (a discount) or charge (a surcharge) on the whole invoice",
        "computed_amount": "The amount it comes to (BT-92 / BT-99)",
        "tax": "The tax of the adjustment",
    },
    "ComponentOut": {
        "kind": "flat (a fee per period), one_off (on the first invoice) or usage (priced by a metric)",
        "name": "Name of the component, used in line descriptions",
        "amount": "Fee per period (flat) or once (one_off); null for usage",
        "tax": "The inline tax, when no tax_rate_id is used",
    },
    "FlatComponentIn": {"kind": "flat: a fee per billing period", "name": "Used in line descriptions"},
    "OneOffComponentIn": {"kind": "one_off: a fee on the first invoice", "name": "Used in line descriptions"},
    "UsageComponentIn": {"kind": "usage: priced by a metric's units", "name": "Used in line descriptions"},
    "ContractOut": {"name": "Name of the contract, if given"},
    "ContractCreate": {"name": "Name of the contract, optional"},
    "ContractUpdate": {"name": "Name of the contract"},
    "CustomerOut": {"name": "Legal name of the customer (BT-44)"},
    "CustomerCreate": {"name": "Legal name of the customer (BT-44)"},
    "CustomerUpdate": {"name": "Legal name of the customer (BT-44)"},
    "TaxRateCreate": {"name": 'Name of the rate, e.g. "VAT 19%"'},
    "TaxRateOut": {
        "name": "Name of the rate",
        "active": "Whether the rate can be used on new invoices",
        "inclusive": "Prices taxed at this rate include the tax",
    },
    "MetricCreate": {"name": "Name shown on invoice lines", "description": "What the metric counts"},
    "MetricOut": {
        "name": "Name shown on invoice lines",
        "description": "What the metric counts",
        "code": "What events name, e.g. api_calls",
        "aggregation": "sum, count, max or unique_count",
        "property": "The event property summed, maxed or counted uniquely; null for count",
    },
    "MetricUsageOut": {
        "aggregation": "sum, count, max or unique_count",
        "events": "Number of events counted",
    },
    "EventBatchIn": {"events": "Up to 1,000 events, each stored or refused on its own"},
    "EventBatchOut": {"received": "Number of events in the request"},
    "EventError": {
        "code": "Why the event was refused (stable code)",
        "reason": "Why the event was refused, for a person",
        "field": "The field of the event at fault",
    },
    "LateEventOut": {"received_at": "When faktur received it (after its period was invoiced)"},
    "ContractUsageOut": {
        "period": "The billing period the usage belongs to",
        "usage": "Units per metric in that period",
    },
    "PeriodOut": {"start": "First day of the period"},
    "TermsOut": {"components": "The components of this terms version"},
    "OrderCreate": {"lines": "What was ordered, in order"},
    "OrderOut": {
        "lines": "The order lines with ordered, invoiced and remaining quantities",
        "total": "Total with tax of the whole order",
        "tax_total": "Tax of the whole order",
    },
    "OrderLineOut": {
        "position": "Position on the order, from 1",
        "discount_percent": "The discount as a percent, when given as one",
        "discount_reason": "Why the discount was given",
    },
    "InvoiceItemCreate": {"sku": "Article number, copied to the invoice line"},
    "InvoiceItemOut": {"prices_include_tax": "True when the unit price is gross (an inclusive tax rate)"},
    "BillingRunOut": {
        "as_of": "Periods completed by this day are invoiced",
        "contracts_total": "Contracts the run looks at",
        "contracts_done": "Contracts processed so far",
        "chunks_total": "Chunks (transactions) the run is split into",
        "chunks_done": "Chunks committed so far",
        "invoices_created": "Invoices the run created",
        "failures_count": "Contracts that could not be invoiced",
        "failures": "Each failed contract with its error code and reason",
        "finished_at": "When the run completed; null while running",
    },
    "RunFailureOut": {"code": "Error code of the failure", "reason": "What went wrong, for a person"},
    "SkippedItemOut": {"item_id": "The requested item that was skipped"},
    "EventRef": {"index": "Position of the event in the request, from 0"},
    "PaymentCreate": {"method": "How it was paid, e.g. sepa, card, cash (free text)"},
    "OrganisationOut": {"email": "Seller contact e-mail, printed on documents"},
    "OrganisationUpdate": {"email": "Seller contact e-mail, printed on documents"},
    "InvoicePreviewOut": {
        "customer": "The customer the invoice would be for",
        "amount_due": "What would be due: the total, as nothing is paid yet",
    },
    # Dialects: the vendors' own fields.
    "CreateInvoicesIn": {
        "contract_id": "Only items of this contract, as Ctr_<uuid>",
        "customer_id": "Only items of this customer, as Cust_<uuid>",
        "invoice_item_ids": "Only these pending items, as Item_<uuid> (up to 1,000)",
    },
    "GenerateInvoiceIn": {
        "customer_id": "The faktur customer (UUID) the contract belongs to",
        "contract_id": "The faktur contract (UUID) to bill",
        "from_date": "Period start (ISO 8601 or Unix seconds); may be null with billing_cycle_start_day",
        "to_date": "Exclusive end of the period (ISO 8601 or Unix seconds; 23:59:59 still ends its day)",
        "check_duplicate_invoice": "Answer the period's live invoice (is_duplicate: true) instead of a 422",
        "bill_for_date": "Which terms version applies; default the period start",
        "billing_cycle_start_day": "Snaps a missing bound to the billing cycle (1-31)",
    },
    "WizCommerceInvoiceIn": {
        "reference_id": "The shop's id of the invoice (up to 200 characters), kept as external reference",
        "order_id": "The order: its faktur id or its external reference",
        "invoice_number": "The number the shop gave the invoice; unique in the organisation",
        "total_amount": "Total the shop charged; must equal faktur's computation",
        "paid_amount": "Amount already paid",
        "status": "PAID, PENDING, PARTIALLY_PAID or OVERPAID; must agree with the amounts",
        "due_date": "When payment is due (ISO 8601)",
        "remarks": "Free text printed on the invoice",
        "url": "Where the shop shows the invoice",
        "created_at": "Issue date and time (ISO 8601); default now",
        "updated_at": "Last change (ISO 8601); must be later than the order's creation; default now",
        "items": "The invoiced items, in order",
    },
    "WizCommerceItemIn": {
        "reference_id": "The shop's id of the item",
        "quantity": "Whole units",
        "name": "What was sold",
        "sku": "Article number",
    },
    "IwErpInvoiceIn": {
        "buyer": "The buyer: a faktur customer",
        "items": "The invoice items, in order",
        "name": "Title of the invoice",
        "message": "Free text printed on the invoice",
        "tax": "Tax of every item that names none",
        "manualNumberPrefix": "Text before the manual number, e.g. RE-2025-",
        "manualNumber": "A number of your own instead of faktur's series (not with status draft)",
        "status": "draft, open, paid or cancelled",
        "paymentDate": "When it was paid (status paid)",
        "cancelText": "Why it was cancelled (status cancelled)",
        "linkedNumber": "A number of another document it refers to",
        "linkedNumberTitle": "What the linked number is, e.g. Order",
    },
    "IwErpItemIn": {"name": "What is invoiced", "quantity": "Quantity", "unit": "UN/ECE Rec 20 unit code"},
    "IwErpTaxIn": {"exemptionReason": "Why no VAT applies (rate 0)"},
    "CreateInvoiceIn": {"invoice": "The invoice to create"},
    "AximInvoiceIn": {"orderId": "The order to invoice: its external reference or faktur id"},
}

# Schema descriptions that would otherwise be a model's docstring written for programmers.
SCHEMA_DESCRIPTIONS = {
    "GenerateInvoiceIn": "Zenskar: generate the invoice of one billing period of a contract.",
}

_CUSTOMER = "5f0c6a4e-2b1d-4c55-9a7e-3d2f1b0c9e8a"
_TAX_19 = {"category": "S", "percent": "19"}

# Request body examples by operation id, the README's walk-through.
EXAMPLES: dict[str, Any] = {
    "create_customer": {
        "name": "Kunde AG",
        "email": "ap@kunde.example",
        "country": "DE",
        "vat_id": "DE123456788",
        "address_line1": "Ringstraße 9",
        "city": "München",
        "postal_code": "80331",
        "locale": "de",
    },
    "create_invoice": {
        "customer_id": _CUSTOMER,
        "lines": [
            {"description": "Consulting", "quantity": "12.5", "unit_price": "120.00", "tax": _TAX_19},
            {
                "description": "Handbook",
                "quantity": "2",
                "unit_price": "24.90",
                "tax": {"category": "S", "percent": "7"},
            },
        ],
        "finalize": True,
    },
    "preview_invoice": {
        "customer_id": _CUSTOMER,
        "lines": [{"description": "Consulting", "quantity": "12.5", "unit_price": "120.00", "tax": _TAX_19}],
    },
    "record_payment": {"amount": "1838.29", "method": "sepa"},
    "create_balance_transaction": {
        "amount": "30.00",
        "currency": "EUR",
        "description": "Goodwill for the outage",
    },
    "void_invoice": {"reason": "Issued to the wrong customer"},
    "update_organisation": {
        "contact_name": "Jana Vogel",
        "phone": "+49 30 1234567",
        "electronic_address": "DE136695976",
        "electronic_address_scheme": "9930",
    },
    "create_tax_rate": {"name": "VAT 19%", "percent": "19", "category": "S"},
    "create_order": {
        "customer_id": _CUSTOMER,
        "external_reference": "PO-1001",
        "lines": [
            {
                "name": "Widget",
                "sku": "W-1",
                "quantity": "3",
                "unit_price": "10.00",
                "tax": _TAX_19,
                "discount": {"amount": "10.00", "reason": "Bundle"},
            }
        ],
    },
    "invoice_order": {"finalize": True},
    "create_item": {
        "customer_id": _CUSTOMER,
        "description": "3 extra seats, May",
        "quantity": "3",
        "unit_price": "15.00",
        "tax": _TAX_19,
        "period_start": "2026-05-01",
        "period_end": "2026-06-01",
        "payment_mode": "automatic",
    },
    "invoice_items": {"customer_id": _CUSTOMER, "finalize": True},
    "create_metric": {"code": "api_calls", "name": "API calls", "aggregation": "count"},
    "create_contract": {
        "customer_id": _CUSTOMER,
        "start_date": "2024-01-15",
        "billing_interval": "month",
        "billing_cycle_start_day": 1,
        "billing_timing": "in_arrears",
        "components": [
            {"kind": "flat", "name": "Platform", "amount": "100.00", "tax": _TAX_19},
            {
                "kind": "usage",
                "name": "API calls",
                "metric_code": "api_calls",
                "tax": _TAX_19,
                "charge_model": {
                    "model": "graduated",
                    "tiers": [
                        {"up_to": "1000", "unit_price": "0.01"},
                        {"up_to": None, "unit_price": "0.005"},
                    ],
                },
            },
        ],
    },
    "create_event": {
        "transaction_id": "req-1",
        "metric_code": "api_calls",
        "customer_id": _CUSTOMER,
        "timestamp": "2024-01-20T10:00:00Z",
        "properties": {},
    },
    "create_events": {
        "events": [
            {
                "transaction_id": "req-2",
                "metric_code": "api_calls",
                "customer_id": _CUSTOMER,
                "timestamp": "2024-01-21T10:00:00Z",
                "properties": {},
            }
        ]
    },
    "invoice_period": {"period_start": "2024-01-15", "period_end": "2024-02-01", "finalize": True},
    "start_billing_run": {"as_of": "2024-06-01"},
}
