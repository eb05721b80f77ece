"""Bad input on every endpoint that takes a body or parameters (design rule 7).

Each case must be a 4xx (never a 500) in the one error shape, with a stable snake_case code, a
`details` entry naming the field where the problem is a field, and no change to stored data.
The tables are the spec: adding an endpoint or a kind of bad input is adding a row.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import MetaData, select

from conftest import Tenant
from factories import create_customer, create_invoice, line
from faktur.db import session_scope
from faktur.organisations import service as organisations
from outbox_settle import settle_email_checks

JSON = {"content-type": "application/json"}
LONG = "x" * 10_001
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@dataclass(frozen=True)
class World:
    customer: str
    draft: str
    open: str


@pytest.fixture
def world(client: TestClient, tenant: Tenant) -> World:
    customer = create_customer(client, tenant.headers)["id"]
    draft = create_invoice(client, tenant.headers, customer)["id"]
    issued = create_invoice(client, tenant.headers, customer, finalize=True)["id"]
    return World(customer, draft, issued)


Snapshot = Callable[[], dict[str, list[str]]]


@pytest.fixture
def stored_rows(session_factory: Any) -> Snapshot:
    """Every row of every table in the database, so a test can prove a request changed nothing."""
    with session_scope(session_factory) as session:
        tables = MetaData()
        tables.reflect(bind=session.connection())

    def snapshot() -> dict[str, list[str]]:
        settle_email_checks(session_factory)
        with session_scope(session_factory) as session:
            return {
                table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
                for table in tables.sorted_tables
            }

    return snapshot


def assert_error(response: Response, status: int, code: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert SNAKE_CASE.match(error["code"])
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    if field is not None:
        fields = [detail["field"] for detail in error["details"]]
        assert field in fields, fields
        for detail in error["details"]:
            assert detail["reason"]


def render(template: str, world: World) -> str:
    return template.format(customer=world.customer, draft=world.draft, open=world.open)


# --- Bodies that are not a JSON object at all, on every endpoint that takes a body -------------

BODY_ENDPOINTS = [
    ("POST", "/v1/customers"),
    ("PATCH", "/v1/customers/{customer}"),
    ("POST", "/v1/customers/{customer}/balance-transactions"),
    ("POST", "/v1/tax-rates"),
    ("PATCH", "/v1/organisation"),
    ("POST", "/v1/invoices"),
    ("POST", "/v1/invoices/preview"),
    ("PATCH", "/v1/invoices/{draft}"),
    ("POST", "/v1/invoices/{open}/payments"),
    ("POST", "/v1/invoices/{open}/void"),
    ("POST", "/v1/invoices/{open}/mark-uncollectible"),
]
OPTIONAL_BODY = {"/v1/invoices/{open}/void", "/v1/invoices/{open}/mark-uncollectible"}

# (id, raw body, status, code, field)
BAD_BODIES: list[tuple[str, bytes, int, str, str | None]] = [
    ("malformed_json", b'{"name": "Kunde AG",', 400, "malformed_json", None),
    ("single_quotes", b"{'name': 'Kunde AG'}", 400, "malformed_json", None),
    ("non_utf8", b'\xff\xfe{"name": "x"}', 400, "malformed_json", None),
    ("latin1_text", '{"name": "Müller"}'.encode("latin-1"), 400, "malformed_json", None),
    ("nan_literal", b'{"amount": NaN}', 400, "malformed_json", None),
    ("infinity_literal", b'{"amount": Infinity}', 400, "malformed_json", None),
    ("minus_infinity_literal", b'{"amount": -Infinity}', 400, "malformed_json", None),
    ("integer_of_5000_digits", b'{"amount": ' + b"9" * 5000 + b"}", 400, "malformed_json", None),
    ("json_array", b'[{"name": "Kunde AG"}]', 422, "validation_error", "body"),
    ("json_string", b'"Kunde AG"', 422, "validation_error", "body"),
    ("json_number", b"42", 422, "validation_error", "body"),
    ("json_null", b"null", 422, "validation_error", "body"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS, ids=[f"{m} {p}" for m, p in BODY_ENDPOINTS])
@pytest.mark.parametrize(
    ("raw", "status", "code", "field"), [case[1:] for case in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_body_that_is_not_a_json_object_is_rejected_and_stores_nothing(
    client: TestClient,
    tenant: Tenant,
    world: World,
    stored_rows: Snapshot,
    method: str,
    path: str,
    raw: bytes,
    status: int,
    code: str,
    field: str | None,
) -> None:
    if raw == b"null" and path in OPTIONAL_BODY:
        pytest.skip("an optional body may be null")
    before = stored_rows()
    response = client.request(method, render(path, world), content=raw, headers={**tenant.headers, **JSON})
    assert_error(response, status, code, field)
    assert stored_rows() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [e for e in BODY_ENDPOINTS if e[1] not in OPTIONAL_BODY],
    ids=[f"{m} {p}" for m, p in BODY_ENDPOINTS if p not in OPTIONAL_BODY],
)
def test_empty_body_where_one_is_required_is_a_validation_error(
    client: TestClient, tenant: Tenant, world: World, stored_rows: Snapshot, method: str, path: str
) -> None:
    before = stored_rows()
    response = client.request(method, render(path, world), content=b"", headers={**tenant.headers, **JSON})
    assert_error(response, 422, "validation_error", "body")
    assert stored_rows() == before


def test_json_sent_without_json_content_type_is_rejected(
    client: TestClient, tenant: Tenant, stored_rows: Snapshot
) -> None:
    before = stored_rows()
    response = client.post(
        "/v1/customers",
        content=b'{"name": "Kunde AG"}',
        headers={**tenant.headers, "content-type": "text/plain"},
    )
    assert_error(response, 422, "validation_error", "body")
    assert stored_rows() == before


def test_deeply_nested_json_is_rejected_not_a_crash(
    client: TestClient, tenant: Tenant, stored_rows: Snapshot
) -> None:
    before = stored_rows()
    raw = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post("/v1/customers", content=raw, headers={**tenant.headers, **JSON})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in ("malformed_json", "validation_error")
    assert stored_rows() == before


# --- Field-level problems: one row per (endpoint, bad value) ----------------------------------

Body = Callable[[World], Any]


def invoice(**fields: Any) -> Body:
    """An otherwise valid invoice body for the world's customer, with `fields` replacing parts."""

    def build(world: World) -> dict[str, Any]:
        return {"customer_id": world.customer, "lines": [line()], **fields}

    return build


def invoice_line(**fields: Any) -> Body:
    return invoice(lines=[line(**fields)])


def raw_invoice_line(raw_field: str) -> Body:
    """A body whose first line carries `raw_field` verbatim (numbers JSON cannot express in Python)."""

    def build(world: World) -> bytes:
        return (
            f'{{"customer_id": "{world.customer}", "lines": [{{"description": "Consulting", '
            f'"quantity": "1", {raw_field}, "tax": {{"category": "S", "percent": "19"}}}}]}}'
        ).encode()

    return build


def const(value: Any) -> Body:
    return lambda _world: value


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    body: Body | None
    field: str
    status: int = 422
    code: str = "validation_error"

    def param(self, *marks: pytest.MarkDecorator) -> Any:
        return pytest.param(self, id=self.id, marks=marks)


def at(method: str, path: str) -> Callable[..., Case]:
    """A row maker for one endpoint: at(...)(id, body, field) -> Case; dict/bytes bodies are constant."""

    def make(case_id: str, body: Any, field: str, **kw: Any) -> Case:
        build = body if callable(body) or body is None else const(body)
        return Case(case_id, method, path, build, field, **kw)

    return make


post_customer = at("POST", "/v1/customers")
patch_customer = at("PATCH", "/v1/customers/{customer}")
CUSTOMER_CASES = [
    post_customer("customer_missing_name", {"email": "a@b.example"}, "name"),
    post_customer("customer_empty_name", {"name": ""}, "name"),
    post_customer("customer_name_too_long", {"name": LONG}, "name"),
    post_customer("customer_name_is_list", {"name": ["Kunde"]}, "name"),
    post_customer("customer_name_is_object", {"name": {"first": "K"}}, "name"),
    post_customer("customer_name_is_number", {"name": 42}, "name"),
    post_customer("customer_name_with_nul", {"name": "Kunde\x00AG"}, "name"),
    post_customer("customer_email_too_long", {"name": "K", "email": LONG}, "email"),
    post_customer("customer_unknown_field", {"name": "K", "nickname": "k"}, "nickname"),
    post_customer("customer_country_unknown", {"name": "K", "country": "XX"}, "country"),
    post_customer("customer_country_name", {"name": "K", "country": "Germany"}, "country"),
    post_customer("customer_currency_xyz", {"name": "K", "currency": "XYZ"}, "currency"),
    post_customer("customer_currency_euro", {"name": "K", "currency": "EURO"}, "currency"),
    post_customer("customer_currency_eu", {"name": "K", "currency": "eu"}, "currency"),
    post_customer("customer_currency_number", {"name": "K", "currency": 978}, "currency"),
    post_customer("customer_vat_bad_check_digit", {"name": "K", "vat_id": "DE123456789"}, "vat_id"),
    post_customer("customer_vat_too_short", {"name": "K", "vat_id": "DE12345678"}, "vat_id"),
    post_customer("customer_vat_fr_bad_key", {"name": "K", "vat_id": "FR00303265045"}, "vat_id"),
    post_customer("customer_vat_punctuation", {"name": "K", "vat_id": "US#12*34"}, "vat_id"),
    post_customer("customer_locale_unknown", {"name": "K", "locale": "zz_QQ"}, "locale"),
    post_customer("customer_metadata_string", {"name": "K", "metadata": "x"}, "metadata"),
    post_customer("customer_metadata_number_value", {"name": "K", "metadata": {"n": 1}}, "metadata"),
    post_customer(
        "customer_metadata_too_many_keys",
        {"name": "K", "metadata": {f"k{i}": "v" for i in range(51)}},
        "metadata",
    ),
    patch_customer("patch_customer_name_null", {"name": None}, "name"),
    patch_customer("patch_customer_locale_null", {"locale": None}, "locale"),
    patch_customer("patch_customer_country_unknown", {"country": "QQ"}, "country"),
    patch_customer("patch_customer_vat_invalid", {"vat_id": "DE000000001"}, "vat_id"),
    patch_customer("patch_customer_unknown_field", {"id": str(uuid.uuid4())}, "id"),
    at("PATCH", "/v1/customers/not-a-uuid")("patch_customer_bad_uuid", {"name": "K"}, "customer_id"),
]

post_rate = at("POST", "/v1/tax-rates")
TAX_RATE_CASES = [
    post_rate("tax_rate_missing_percent", {"name": "VAT"}, "percent"),
    post_rate("tax_rate_missing_name", {"percent": "19"}, "name"),
    post_rate("tax_rate_name_too_long", {"name": LONG, "percent": "19"}, "name"),
    post_rate("tax_rate_percent_nan_string", {"name": "V", "percent": "NaN"}, "percent"),
    post_rate("tax_rate_percent_infinity_string", {"name": "V", "percent": "Infinity"}, "percent"),
    post_rate("tax_rate_percent_1e400", b'{"name": "V", "percent": 1e400}', "percent"),
    post_rate("tax_rate_percent_bool", {"name": "V", "percent": True}, "percent"),
    post_rate("tax_rate_percent_object", {"name": "V", "percent": {"v": 19}}, "percent"),
    post_rate("tax_rate_percent_list", {"name": "V", "percent": [19]}, "percent"),
    post_rate("tax_rate_percent_word", {"name": "V", "percent": "nineteen"}, "percent"),
    post_rate("tax_rate_percent_too_many_decimals", {"name": "V", "percent": "19.12345"}, "percent"),
    post_rate("tax_rate_percent_negative", {"name": "V", "percent": "-1"}, "percent"),
    post_rate("tax_rate_percent_huge", {"name": "V", "percent": "99999999999999999999.999"}, "percent"),
    post_rate("tax_rate_unknown_category", {"name": "V", "percent": "19", "category": "Q"}, "category"),
    post_rate("tax_rate_inclusive_not_bool", {"name": "V", "percent": "1", "inclusive": "?"}, "inclusive"),
    post_rate("tax_rate_unknown_field", {"name": "V", "percent": "19", "country": "DE"}, "country"),
    post_rate(
        "tax_rate_exempt_without_reason",
        {"name": "Exempt", "percent": "0", "category": "E"},
        "exemption_reason",
        code="tax_rule_violation",
    ),
]

patch_org = at("PATCH", "/v1/organisation")
ORGANISATION_CASES = [
    patch_org("org_terms_bool", {"payment_terms_days": True}, "payment_terms_days"),
    patch_org("org_terms_string", {"payment_terms_days": "thirty"}, "payment_terms_days"),
    patch_org("org_terms_fraction", {"payment_terms_days": 1.5}, "payment_terms_days"),
    patch_org("org_terms_object", {"payment_terms_days": {"d": 30}}, "payment_terms_days"),
    patch_org("org_terms_huge", {"payment_terms_days": 10**30}, "payment_terms_days"),
    patch_org("org_terms_negative", {"payment_terms_days": -1}, "payment_terms_days"),
    patch_org("org_currency_xyz", {"default_currency": "XYZ"}, "default_currency"),
    patch_org("org_currency_euro", {"default_currency": "EURO"}, "default_currency"),
    patch_org("org_currency_eu", {"default_currency": "eu"}, "default_currency"),
    patch_org("org_country_unknown", {"country": "ZZ"}, "country"),
    patch_org("org_vat_invalid", {"vat_id": "DE123456789"}, "vat_id"),
    patch_org("org_legal_name_null", {"legal_name": None}, "legal_name"),
    patch_org("org_legal_name_too_long", {"legal_name": LONG}, "legal_name"),
    patch_org("org_city_with_nul", {"city": "Ber\x00lin"}, "city"),
    patch_org("org_number_reset_unknown", {"number_reset": "monthly"}, "number_reset"),
    patch_org("org_number_format_too_long", {"number_format": LONG}, "number_format"),
    patch_org(
        "org_number_format_without_seq",
        {"number_format": "INV-{YYYY}"},
        "number_format",
        code="invalid_number_format",
    ),
    patch_org("org_unknown_field", {"id": str(uuid.uuid4())}, "id"),
]


def _invoice_cases(path: str, prefix: str) -> list[Case]:
    """The same bad bodies for POST /v1/invoices and POST /v1/invoices/preview."""
    post = at("POST", path)
    tax_s19 = {"category": "S", "percent": "19"}

    def case(name: str, body: Any, field: str, **kw: Any) -> Case:
        return post(f"{prefix}_{name}", body, field, **kw)

    q, price = "lines[0].quantity", "lines[0].unit_price"
    return [
        case("missing_customer", {"lines": [line()]}, "customer_id"),
        case("customer_not_uuid", invoice(customer_id="cus_123"), "customer_id"),
        case("customer_is_number", invoice(customer_id=123), "customer_id"),
        case("lines_is_string", invoice(lines="one line"), "lines"),
        case("lines_is_object", invoice(lines={"description": "x"}), "lines"),
        case("too_many_lines", invoice(lines=[line()] * 2001), "lines"),
        case("line_is_string", invoice(lines=["Consulting"]), "lines[0]"),
        case("quantity_7_decimals", invoice_line(quantity="0.1234567"), q),
        case("quantity_bool", invoice_line(quantity=True), q),
        case("quantity_object", invoice_line(quantity={"value": 1}), q),
        case("quantity_list", invoice_line(quantity=[1]), q),
        case("quantity_nan_string", invoice_line(quantity="NaN"), q),
        case("quantity_snan_string", invoice_line(quantity="sNaN"), q),
        case("quantity_infinity_string", invoice_line(quantity="Infinity"), q),
        case("quantity_minus_infinity_string", invoice_line(quantity="-Infinity"), q),
        case("quantity_1e400_string", invoice_line(quantity="1e400"), q),
        case("quantity_1e-400_string", invoice_line(quantity="1e-400"), q),
        case("quantity_above_cap", invoice_line(quantity="1000000000001"), q),
        case("unit_price_1e400_number", raw_invoice_line('"unit_price": 1e400'), price),
        case("unit_price_huge_number", raw_invoice_line('"unit_price": 99999999999999999999.999'), price),
        case("unit_price_huge_string", invoice_line(unit_price="99999999999999999999.999"), price),
        case("unit_price_missing", invoice(lines=[{"description": "x", "tax": tax_s19}]), price),
        case("description_too_long", invoice_line(description=LONG), "lines[0].description"),
        case("description_empty", invoice_line(description=""), "lines[0].description"),
        case("unit_code_lower_case", invoice_line(unit_code="c62"), "lines[0].unit_code"),
        case("line_unknown_field", invoice_line(colour="red"), "lines[0].colour"),
        case("line_without_tax", invoice(lines=[{"description": "x", "unit_price": "1"}]), "lines[0]"),
        case("tax_category_unknown", invoice(lines=[line(), line(category="Q")]), "lines[1].tax.category"),
        case("tax_percent_negative", invoice_line(percent="-19"), "lines[0].tax.percent"),
        case(
            "tax_rate_id_not_uuid",
            invoice(lines=[{"description": "x", "unit_price": "1", "tax_rate_id": "vat19"}]),
            "lines[0].tax_rate_id",
        ),
        case(
            "period_end_before_start",
            invoice_line(period_start="2025-02-01", period_end="2025-01-01"),
            "lines[0]",
        ),
        case("currency_xyz", invoice(currency="XYZ"), "currency"),
        case("currency_euro", invoice(currency="EURO"), "currency"),
        case("currency_eu", invoice(currency="eu"), "currency"),
        case("due_date_impossible", invoice(due_date="2025-02-30"), "due_date"),
        case("due_date_words", invoice(due_date="next friday"), "due_date"),
        case("terms_string", invoice(payment_terms_days="thirty"), "payment_terms_days"),
        case("terms_huge", invoice(payment_terms_days=10**30), "payment_terms_days"),
        case("memo_too_long", invoice(memo=LONG), "memo"),
        case("memo_with_nul", invoice(memo="a\x00b"), "memo"),
        case("prices_include_tax_not_bool", invoice(prices_include_tax="maybe"), "prices_include_tax"),
        case("metadata_list", invoice(metadata=["a"]), "metadata"),
        case("unknown_field", invoice(total="119.00"), "total"),
        case(
            "adjustment_without_kind",
            invoice(adjustments=[{"amount": "5", "tax": tax_s19}]),
            "adjustments[0].kind",
        ),
        case("finalize_not_bool", invoice(finalize="please"), "finalize"),
    ]


INVOICE_CASES = [
    *_invoice_cases("/v1/invoices", "create"),
    *_invoice_cases("/v1/invoices/preview", "preview"),
]

patch_draft = at("PATCH", "/v1/invoices/{draft}")
INVOICE_PATCH_CASES = [
    patch_draft(
        "patch_invoice_quantity_7_decimals", {"lines": [line(quantity="0.1234567")]}, "lines[0].quantity"
    ),
    patch_draft(
        "patch_invoice_unit_price_1e400",
        b'{"lines": [{"description": "x", "unit_price": 1e400, "tax": {"category": "S", "percent": "19"}}]}',
        "lines[0].unit_price",
    ),
    patch_draft("patch_invoice_lines_string", {"lines": "none"}, "lines"),
    patch_draft("patch_invoice_currency_eu", {"currency": "eu"}, "currency"),
    patch_draft("patch_invoice_customer_not_uuid", {"customer_id": "nope"}, "customer_id"),
    patch_draft("patch_invoice_memo_too_long", {"memo": LONG}, "memo"),
    patch_draft("patch_invoice_unknown_field", {"status": "paid"}, "status"),
    patch_draft("patch_invoice_number_field", {"number": "INV-1"}, "number"),
    at("PATCH", "/v1/invoices/12345")("patch_invoice_bad_uuid", {"memo": "x"}, "invoice_id"),
]

pay = at("POST", "/v1/invoices/{open}/payments")
PAYMENT_CASES = [
    pay("payment_zero", {"amount": "0"}, "amount"),
    pay("payment_negative", {"amount": "-5.00"}, "amount"),
    pay("payment_negative_number", {"amount": -5}, "amount"),
    pay("payment_missing_amount", {"method": "card"}, "amount"),
    pay("payment_7_decimals", {"amount": "1.1234567"}, "amount"),
    pay("payment_below_minor_unit", {"amount": "0.001"}, "amount", code="amount_precision"),
    pay("payment_bool", {"amount": True}, "amount"),
    pay("payment_object", {"amount": {"value": "10"}}, "amount"),
    pay("payment_nan_string", {"amount": "NaN"}, "amount"),
    pay("payment_1e400", b'{"amount": 1e400}', "amount"),
    pay("payment_huge", b'{"amount": 99999999999999999999.999}', "amount"),
    pay("payment_paid_on_words", {"amount": "1", "paid_on": "yesterday"}, "paid_on"),
    pay("payment_reference_too_long", {"amount": "1", "reference": LONG}, "reference"),
    pay("payment_unknown_field", {"amount": "1", "currency": "EUR"}, "currency"),
    at("POST", "/v1/invoices/not-a-uuid/payments")("payment_bad_uuid", {"amount": "1"}, "invoice_id"),
]

TRANSITION_CASES = [
    case
    for action in ("void", "mark-uncollectible")
    for transition in [at("POST", f"/v1/invoices/{{open}}/{action}")]
    for case in (
        transition(f"{action}_reason_number", {"reason": 5}, "reason"),
        transition(f"{action}_reason_too_long", {"reason": LONG}, "reason"),
        transition(f"{action}_unknown_field", {"why": "x"}, "why"),
        at("POST", f"/v1/invoices/x/{action}")(f"{action}_bad_uuid", None, "invoice_id"),
    )
]
TRANSITION_CASES.append(
    at("POST", "/v1/invoices/00000000-0000-0000-0000-0000000000/finalize")(
        "finalize_uuid_one_digit_short", None, "invoice_id"
    )
)


def _cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


NAIVE_CURSOR = _cursor("2025-01-01T00:00:00", str(uuid.uuid4()))
OVERFLOW_CURSOR = _cursor("0001-01-01T00:00:00+05:00", str(uuid.uuid4()))
BAD_ID_CURSOR = _cursor(datetime.now(UTC).isoformat(), "not-a-uuid")
OBJECT_CURSOR = base64.urlsafe_b64encode(b'{"after": 1}').decode()


def _list_cases(path: str, prefix: str) -> list[Case]:
    def case(name: str, query: str, field: str, **kw: Any) -> Case:
        return at("GET", f"{path}?{query}")(f"{prefix}_{name}", None, field, **kw)

    cursor = {"status": 400, "code": "invalid_cursor"}
    return [
        case("cursor_garbage", "cursor=abc", "cursor", **cursor),
        case("cursor_not_base64_json", "cursor=%21%21%21", "cursor", **cursor),
        case("cursor_naive_timestamp", f"cursor={NAIVE_CURSOR}", "cursor", **cursor),
        case("cursor_overflowing_timestamp", f"cursor={OVERFLOW_CURSOR}", "cursor", **cursor),
        case("cursor_bad_id", f"cursor={BAD_ID_CURSOR}", "cursor", **cursor),
        case("cursor_object", f"cursor={OBJECT_CURSOR}", "cursor", **cursor),
        case("cursor_too_long", "cursor=" + "a" * 201, "cursor"),
        case("limit_zero", "limit=0", "limit"),
        case("limit_negative", "limit=-1", "limit"),
        case("limit_too_big", "limit=101", "limit"),
        case("limit_huge", "limit=" + "9" * 40, "limit"),
        case("limit_word", "limit=ten", "limit"),
        case("limit_fraction", "limit=2.5", "limit"),
        case("limit_1e400", "limit=1e400", "limit"),
    ]


def get(case_id: str, path: str, field: str) -> Case:
    return at("GET", path)(case_id, None, field)


LIST_CASES = [
    *_list_cases("/v1/customers", "customers"),
    *_list_cases("/v1/tax-rates", "tax_rates"),
    *_list_cases("/v1/invoices", "invoices"),
    get("customers_email_too_long", "/v1/customers?email=" + "a" * 255, "email"),
    get("customers_email_with_nul", "/v1/customers?email=a%00b", "email"),
    get("invoices_status_unknown", "/v1/invoices?status=overdue", "status"),
    get("invoices_customer_not_uuid", "/v1/invoices?customer_id=cus_1", "customer_id"),
    get("invoices_created_from_words", "/v1/invoices?created_from=yesterday", "created_from"),
    get("invoices_created_before_month_13", "/v1/invoices?created_before=2025-13-01", "created_before"),
    get("get_customer_bad_uuid", "/v1/customers/42", "customer_id"),
    get("get_invoice_bad_uuid", "/v1/invoices/inv_42", "invoice_id"),
]

DATE_FILTER_CASES = [
    get("invoices_created_from_naive", "/v1/invoices?created_from=2025-01-01T00:00:00", "created_from"),
    get("invoices_created_before_naive", "/v1/invoices?created_before=2025-01-01T09:00", "created_before"),
    at("POST", "/v1/invoices")("create_terms_bool", invoice(payment_terms_days=True), "payment_terms_days"),
]

# A zone-aware filter whose UTC value falls outside datetime's range: UtcDateTime.process_bind_param
# calls astimezone(UTC), which raises OverflowError -> 500. The fix belongs in invoices/endpoints.py
# (convert to UTC during validation); strict, so the fix flags these rows for promotion.
LAST_HOUR = "9999-12-31T23:00:00-05:00"
DATE_OVERFLOW_CASES = [
    get(
        "invoices_created_from_year_1", "/v1/invoices?created_from=0001-01-01T00:00%2B05:00", "created_from"
    ).param(),
    get("invoices_created_before_9999", f"/v1/invoices?created_before={LAST_HOUR}", "created_before").param(),
]

ALL_CASES = [
    *[
        c.param()
        for c in (
            *CUSTOMER_CASES,
            *TAX_RATE_CASES,
            *ORGANISATION_CASES,
            *INVOICE_CASES,
            *INVOICE_PATCH_CASES,
            *PAYMENT_CASES,
            *TRANSITION_CASES,
            *LIST_CASES,
            *DATE_FILTER_CASES,
        )
    ],
    *DATE_OVERFLOW_CASES,
]


def _send(client: TestClient, tenant: Tenant, world: World, case: Case) -> Response:
    path = render(case.path, world)
    if case.body is None:
        return client.request(case.method, path, headers=tenant.headers)
    body = case.body(world)
    if isinstance(body, bytes):
        return client.request(case.method, path, content=body, headers={**tenant.headers, **JSON})
    return client.request(case.method, path, json=body, headers=tenant.headers)


@pytest.mark.parametrize("case", ALL_CASES)
def test_bad_field_is_a_4xx_naming_the_field_and_stores_nothing(
    client: TestClient, tenant: Tenant, world: World, stored_rows: Snapshot, case: Case
) -> None:
    before = stored_rows()
    response = _send(client, tenant, world, case)
    assert_error(response, case.status, case.code, case.field)
    assert stored_rows() == before


def test_validation_error_lists_every_bad_field_at_once(
    client: TestClient, tenant: Tenant, world: World
) -> None:
    body = {
        "customer_id": world.customer,
        "currency": "XYZ",
        "lines": [line(quantity="0.1234567"), line(unit_price="abc")],
    }
    response = client.post("/v1/invoices", json=body, headers=tenant.headers)
    assert_error(response, 422, "validation_error", "currency")
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"currency", "lines[0].quantity", "lines[1].unit_price"} <= fields


def test_bad_input_does_not_consume_an_invoice_number(
    client: TestClient, tenant: Tenant, world: World
) -> None:
    bad = client.post(
        "/v1/invoices",
        json={"customer_id": world.customer, "finalize": True, "lines": [line(quantity="0.1234567")]},
        headers=tenant.headers,
    )
    assert bad.status_code == 422
    first = client.get(f"/v1/invoices/{world.open}", headers=tenant.headers).json()["number"]
    second = create_invoice(client, tenant.headers, world.customer, finalize=True)["number"]
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


# --- Authentication -------------------------------------------------------------------------------

AUTH_ENDPOINTS: list[tuple[str, str, Body | None]] = [
    ("GET", "/v1/organisation", None),
    ("PATCH", "/v1/organisation", const({"city": "Hamburg"})),
    ("GET", "/v1/customers", None),
    ("POST", "/v1/customers", const({"name": "Kunde AG"})),
    ("GET", "/v1/customers/{customer}", None),
    ("PATCH", "/v1/customers/{customer}", const({"name": "Other"})),
    ("GET", "/v1/customers/{customer}/balance", None),
    ("GET", "/v1/customers/{customer}/balance-transactions", None),
    ("POST", "/v1/customers/{customer}/balance-transactions", const({"amount": "5.00", "description": "x"})),
    ("GET", "/v1/tax-rates", None),
    ("POST", "/v1/tax-rates", const({"name": "VAT", "percent": "19"})),
    ("GET", "/v1/invoices", None),
    ("POST", "/v1/invoices", invoice()),
    ("POST", "/v1/invoices/preview", invoice()),
    ("GET", "/v1/invoices/{draft}", None),
    ("PATCH", "/v1/invoices/{draft}", const({"memo": "x"})),
    ("POST", "/v1/invoices/{draft}/finalize", None),
    ("POST", "/v1/invoices/{open}/payments", const({"amount": "10.00"})),
    ("POST", "/v1/invoices/{open}/void", None),
    ("POST", "/v1/invoices/{open}/mark-uncollectible", None),
]
AUTH_IDS = [f"{m} {p}" for m, p, _ in AUTH_ENDPOINTS]


def _auth_request(
    client: TestClient, world: World, method: str, path: str, body: Body | None, headers: dict[str, str]
) -> Response:
    payload = None if body is None else body(world)
    return client.request(method, render(path, world), json=payload, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), AUTH_ENDPOINTS, ids=AUTH_IDS)
def test_missing_api_key_is_401_missing_api_key(
    client: TestClient, world: World, stored_rows: Snapshot, method: str, path: str, body: Body | None
) -> None:
    before = stored_rows()
    response = _auth_request(client, world, method, path, body, {})
    assert_error(response, 401, "missing_api_key", None)
    assert stored_rows() == before


@pytest.mark.parametrize(("method", "path", "body"), AUTH_ENDPOINTS, ids=AUTH_IDS)
def test_wrong_api_key_is_401_invalid_api_key(
    client: TestClient, world: World, stored_rows: Snapshot, method: str, path: str, body: Body | None
) -> None:
    before = stored_rows()
    headers = {"Authorization": "Bearer fk_" + "A" * 43}
    response = _auth_request(client, world, method, path, body, headers)
    assert_error(response, 401, "invalid_api_key", None)
    assert stored_rows() == before


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "fk_not_even_a_scheme"],
    ids=["empty", "bearer_without_token", "bearer_blank", "basic_scheme", "no_scheme"],
)
def test_authorization_header_without_a_bearer_token_is_401_missing_api_key(
    client: TestClient, authorization: str
) -> None:
    response = client.get("/v1/organisation", headers={"Authorization": authorization})
    assert_error(response, 401, "missing_api_key", None)


def test_key_of_another_length_or_case_is_invalid(client: TestClient, tenant: Tenant) -> None:
    for wrong in (tenant.api_key[:-1], tenant.api_key + "x", tenant.api_key.upper()):
        response = client.get("/v1/organisation", headers={"Authorization": f"Bearer {wrong}"})
        assert_error(response, 401, "invalid_api_key", None)


def test_revoked_api_key_is_401_and_other_keys_still_work(
    client: TestClient, tenant: Tenant, session_factory: Any
) -> None:
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        second = organisations.create_api_key(session, tenant.organisation_id, "second", now)
    second_headers = {"Authorization": f"Bearer {second.plaintext}"}
    assert client.get("/v1/organisation", headers=second_headers).status_code == 200
    with session_scope(session_factory) as session:
        organisations.revoke_api_key(session, second.api_key.id, now)

    response = client.get("/v1/organisation", headers=second_headers)
    assert_error(response, 401, "invalid_api_key", None)
    assert client.get("/v1/organisation", headers=tenant.headers).status_code == 200


def test_revoked_api_key_cannot_write(
    client: TestClient, tenant: Tenant, session_factory: Any, stored_rows: Snapshot
) -> None:
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        key = organisations.create_api_key(session, tenant.organisation_id, "doomed", now)
        organisations.revoke_api_key(session, key.api_key.id, now)
    before = stored_rows()
    response = client.post(
        "/v1/customers", json={"name": "Kunde AG"}, headers={"Authorization": f"Bearer {key.plaintext}"}
    )
    assert_error(response, 401, "invalid_api_key", None)
    assert stored_rows() == before
