"""create_invoices, the batch path of the invoicing core: the same invoices as create_invoice,
one number block, nothing written when one request is refused, customers and tax rates scoped
to the organisation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select

from faktur.context import Actor
from faktur.customers import service as customers
from faktur.customers.schemas import CustomerCreate
from faktur.db import session_scope
from faktur.errors import FakturError
from faktur.invoices import commands, service
from faktur.invoices.batch import (
    CreatedInvoice,
    InvoiceRequest,
    InvoiceRequestFailed,
    check_invoices,
    create_invoices,
    write_checked,
)
from faktur.invoices.domain import InvoiceOrigin, LineSource, NewInvoice
from faktur.invoices.schemas import InvoiceCreate
from faktur.models import Event, Invoice, InvoiceEvent, InvoiceLine, InvoiceTaxGroup, Organisation
from faktur.tax_rates import service as tax_rates
from faktur.tax_rates.schemas import TaxRateCreate

NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)
TABLES = (Invoice, InvoiceLine, InvoiceTaxGroup, InvoiceEvent)
# Identity of the stored row, not its content: differs between two creations of one invoice.
# Ids, numbers and the hosted page's random token (and its hash) differ between any two invoices.
IDENTITY = {"id", "invoice_id", "number", "hosted_token", "hosted_token_sha256"}
RATES = [("S", "19"), ("S", "7"), ("Z", "0"), ("E", "0")]
UNKNOWN = uuid.uuid4()


def _actor(session: Any, organisation_id: uuid.UUID) -> Actor:
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None
    return Actor(organisation, "tester")


def _customer(session: Any, organisation_id: uuid.UUID, **fields: Any) -> uuid.UUID:
    body = {"name": "Kunde AG", "country": "DE", "vat_id": "DE123456788", **fields}
    return customers.create_customer(session, organisation_id, CustomerCreate(**body), NOW).id


def _tax_rate(session: Any, organisation_id: uuid.UUID, percent: str = "19") -> uuid.UUID:
    body = TaxRateCreate(name=f"VAT {percent}", percent=Decimal(percent))
    return tax_rates.create_tax_rate(session, organisation_id, body, NOW).id


def _body(customer_id: uuid.UUID, finalize: bool = True, **extra: Any) -> NewInvoice:
    lines = extra.pop("lines", [{"description": "Consulting", "unit_price": "100", "tax": _tax("19")}])
    return commands.new_invoice(
        InvoiceCreate.model_validate(
            {"customer_id": str(customer_id), "lines": lines, "finalize": finalize, **extra}
        )
    )


def _tax(percent: str, category: str = "S") -> dict[str, Any]:
    tax: dict[str, Any] = {"category": category, "percent": percent}
    if category == "E":
        tax["exemption_reason"] = "Exempt under Art. 132"
    return tax


def _count(session: Any, organisation_id: uuid.UUID) -> tuple[int, ...]:
    return tuple(
        session.execute(
            select(func.count()).select_from(model).where(model.organisation_id == organisation_id)
        ).scalar_one()
        for model in TABLES
    )


def _content(row: object) -> dict[str, Any]:
    return {
        attr.key: getattr(row, attr.key)
        for attr in inspect(type(row)).column_attrs
        if attr.columns[0].key not in IDENTITY
    }


def _stored(session: Any, organisation_id: uuid.UUID, invoice_id: uuid.UUID) -> dict[str, Any]:
    """Everything stored for one invoice except its ids and number, children in their order."""
    invoice = service.get_invoice(session, organisation_id, invoice_id)
    return {
        "invoice": _content(invoice),
        "lines": [_content(line) for line in invoice.lines],
        "tax_groups": [_content(group) for group in invoice.tax_groups],
        "events": [_content(event) for event in invoice.events],
    }


# --------------------------------------------------------------------------------------------
# Both paths compute and store the same invoices


def _amount(places: int, low: int, high: int) -> st.SearchStrategy[str]:
    scale = 10**places
    return st.integers(low * scale, high * scale).map(lambda n: str(Decimal(n) / scale))


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """An invoice body as the API would accept it; some are refused by the engine or at
    finalization (a negative total, a mix of inclusive and exclusive rates ...)."""
    lines = []
    for _ in range(draw(st.integers(0, 5) if draw(st.integers(0, 9)) == 0 else st.integers(1, 5))):
        line: dict[str, Any] = {
            "description": "item",
            "quantity": draw(_amount(draw(st.integers(0, 3)), -5, 500)),
            "unit_price": draw(_amount(draw(st.integers(0, 4)), 0, 5000)),
        }
        if draw(st.booleans()):
            line["tax_rate_id"] = "RATE"
        else:
            line["tax"] = _tax(*reversed(draw(st.sampled_from(RATES))))
        if draw(st.booleans()):
            line["allowances"] = [{"percent": draw(_amount(2, 0, 100)), "reason": "discount"}]
        lines.append(line)
    body: dict[str, Any] = {
        "lines": lines,
        "currency": draw(st.sampled_from(["EUR", "JPY", "KWD"])),
        "finalize": draw(st.booleans()),
        "memo": draw(st.sampled_from([None, "Danke"])),
        "prices_include_tax": draw(st.sampled_from([None, False, True])),
    }
    if draw(st.booleans()):
        body["adjustments"] = [
            {"kind": "allowance", "amount": draw(_amount(0, 0, 20)), "reason": "loyalty", "tax": _tax("19")}
        ]
    return body


def _materialise(raw: dict[str, Any], customer_id: uuid.UUID, rate_id: uuid.UUID) -> InvoiceCreate:
    lines = [
        {**line, "tax_rate_id": str(rate_id)} if "tax_rate_id" in line else line for line in raw["lines"]
    ]
    return InvoiceCreate.model_validate({**raw, "lines": lines, "customer_id": str(customer_id)})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_bodies=st.lists(bodies(), min_size=1, max_size=4))
def test_a_batch_stores_what_create_invoice_stores_for_the_same_requests(
    session_factory, tenant, raw_bodies: list[dict[str, Any]]
) -> None:
    org = tenant.organisation_id
    with session_scope(session_factory) as session:
        customer_id = _customer(session, org)
        rate_id = _tax_rate(session, org)
    requests = [_materialise(raw, customer_id, rate_id) for raw in raw_bodies]
    sources = [[LineSource("invoice_item", uuid.uuid4()) for _ in r.lines] for r in requests]

    single: list[uuid.UUID | str] = []  # per request: the invoice id, or the error code
    for data, line_sources in zip(requests, sources, strict=True):
        try:
            with session_scope(session_factory) as session:
                command = commands.new_invoice(
                    data, origin=InvoiceOrigin(source="invoice_items"), line_sources=line_sources
                )
                invoice = service.create_invoice(session, _actor(session, org), command, NOW)
                single.append(invoice.id)
        except FakturError as exc:
            single.append(exc.code)

    with session_scope(session_factory) as session:
        before = _count(session, org)
    batch = [
        InvoiceRequest(
            commands.new_invoice(
                data,
                origin=InvoiceOrigin(source="invoice_items"),
                line_sources=[LineSource(s.kind, uuid.uuid4()) for s in ls],
            )
        )
        for data, ls in zip(requests, sources, strict=True)
    ]
    refused = [(i, code) for i, code in enumerate(single) if isinstance(code, str)]
    event("a request refused" if refused else "all created")
    if refused:
        with pytest.raises(InvoiceRequestFailed) as caught, session_scope(session_factory) as session:
            create_invoices(session, _actor(session, org), batch, NOW)
        assert (caught.value.index, caught.value.code) == refused[0]
        with session_scope(session_factory) as session:
            assert _count(session, org) == before
        return

    with session_scope(session_factory) as session:
        created = create_invoices(session, _actor(session, org), batch, NOW)
    with session_scope(session_factory) as session:
        for one, many in zip(single, created, strict=True):
            assert isinstance(one, uuid.UUID)
            expected = _stored(session, org, one)
            got = _stored(session, org, many.id)
            # Line sources differ by construction (one item can be on one live line only).
            for line in (*expected["lines"], *got["lines"]):
                line.pop("source_id")
            assert got == expected
            stored = session.get(Invoice, (org, many.id))
            assert stored.hosted_token and stored.hosted_token_sha256  # every invoice has its page token
            assert (many.status, many.number, many.total_minor, many.tax_total_minor) == (
                stored.status,
                stored.number,
                stored.total_minor,
                stored.tax_total_minor,
            )


# --------------------------------------------------------------------------------------------
# Numbering


def test_finalized_invoices_of_a_batch_take_one_gapless_block_in_request_order(
    session_factory, tenant
) -> None:
    org = tenant.organisation_id
    with session_scope(session_factory) as session:
        customer_id = _customer(session, org)
        first = service.create_invoice(session, _actor(session, org), _body(customer_id), NOW)
    finalize = [True, False, True, True, False]
    with session_scope(session_factory) as session:
        created = create_invoices(
            session,
            _actor(session, org),
            [InvoiceRequest(_body(customer_id, flag)) for flag in finalize],
            NOW,
        )
        # Light results: none of the new invoices is an object of the session.
        assert not [o for o in session.identity_map.values() if isinstance(o, Invoice)]
    with session_scope(session_factory) as session:
        after = service.create_invoice(session, _actor(session, org), _body(customer_id), NOW)
    assert all(isinstance(c, CreatedInvoice) for c in created)
    assert first.number == "INV-2025-00001"
    assert [c.number for c in created] == ["INV-2025-00002", None, "INV-2025-00003", "INV-2025-00004", None]
    assert [c.status for c in created] == ["open", "draft", "open", "open", "draft"]
    assert after.number == "INV-2025-00005"
    with session_scope(session_factory) as session:
        stored = service.get_invoices(session, org, [c.id for c in created])
        assert [(i.number, i.status, len(i.events)) for i in stored] == [
            (c.number, c.status, 2 if c.number else 1) for c in created
        ]


def test_numbers_reserved_by_the_caller_are_used_and_must_match_the_finalized_count(
    session_factory, tenant
) -> None:
    org = tenant.organisation_id
    with session_scope(session_factory) as session:
        customer_id = _customer(session, org)
    requests = [InvoiceRequest(_body(customer_id, flag)) for flag in (True, False, True)]
    with pytest.raises(ValueError), session_scope(session_factory) as session:
        create_invoices(session, _actor(session, org), requests, NOW, numbers=["X-1"])
    with session_scope(session_factory) as session:
        created = create_invoices(session, _actor(session, org), requests, NOW, numbers=["X-1", "X-2"])
    assert [c.number for c in created] == ["X-1", None, "X-2"]
    with session_scope(session_factory) as session:
        # The automatic series was not touched.
        assert service.create_invoice(session, _actor(session, org), _body(customer_id), NOW).number == (
            "INV-2025-00001"
        )


# --------------------------------------------------------------------------------------------
# All or nothing


@pytest.mark.parametrize(
    ("bad", "code", "status"),
    [
        ({"lines": []}, "invoice_has_no_lines", 422),
        ({"lines": [{"description": "x", "unit_price": "1", "tax_rate_id": str(UNKNOWN)}]},
         "tax_rate_not_found", 404),
        ({"lines": [{"description": "x", "quantity": "-1", "unit_price": "5", "tax": _tax("19")}]},
         "negative_total", 422),
        ({"due_date": "2025-01-01"}, "due_date_before_issue_date", 422),
    ],
)  # fmt: skip
def test_nothing_is_written_or_numbered_when_one_request_is_refused(
    session_factory, tenant, bad: dict[str, Any], code: str, status: int
) -> None:
    org = tenant.organisation_id
    with session_scope(session_factory) as session:
        customer_id = _customer(session, org)
        before = _count(session, org)
    requests = [InvoiceRequest(_body(customer_id)) for _ in range(3)]
    requests[1] = InvoiceRequest(_body(customer_id, **bad))
    with pytest.raises(InvoiceRequestFailed) as caught, session_scope(session_factory) as session:
        create_invoices(session, _actor(session, org), requests, NOW)
    error = caught.value
    assert (error.index, error.code, error.status) == (1, code, status)
    assert "Invoice request 1" in error.message
    assert all(detail["request_index"] == 1 for detail in error.details)
    with session_scope(session_factory) as session:
        assert _count(session, org) == before
        # No number was consumed: the next invoice is still the first of the series.
        assert service.create_invoice(session, _actor(session, org), _body(customer_id), NOW).number == (
            "INV-2025-00001"
        )


def test_the_check_writes_nothing_and_the_write_stores_and_numbers_what_it_checked(
    session_factory, tenant
) -> None:
    org = tenant.organisation_id
    with session_scope(session_factory) as session:
        customer_id = _customer(session, org)
    requests = [InvoiceRequest(_body(customer_id, flag)) for flag in (True, False, True)]
    with session_scope(session_factory) as session:
        actor = _actor(session, org)
        with pytest.raises(InvoiceRequestFailed) as caught:
            check_invoices(session, actor, [*requests, InvoiceRequest(_body(customer_id, lines=[]))], NOW)
        assert (caught.value.index, caught.value.code) == (3, "invoice_has_no_lines")
        checked = check_invoices(session, actor, requests, NOW)
        session.flush()
        # Checked: computed and built, but nothing written, no event, no number taken.
        assert _count(session, org) == (0, 0, 0, 0)
        assert session.execute(select(func.count()).select_from(Event)).scalar_one() == 1  # the customer's
        assert [invoice.number for invoice, _ in checked.built] == [None, None, None]
        assert [issue_date is not None for _, issue_date in checked.built] == [True, False, True]
        written = write_checked(session, actor, checked, NOW)
        assert [i.id for i in written] == [invoice.id for invoice, _ in checked.built]
    assert [i.number for i in written] == ["INV-2025-00001", None, "INV-2025-00002"]
    with session_scope(session_factory) as session:
        assert _count(session, org)[0] == 3
        assert session.execute(select(func.count()).select_from(Event)).scalar_one() == 1 + 2 + 1 + 2
        assert (
            write_checked(session, _actor(session, org), check_invoices(session, actor, [], NOW), NOW) == []
        )


def test_an_empty_batch_creates_nothing(session_factory, tenant) -> None:
    with session_scope(session_factory) as session:
        assert create_invoices(session, _actor(session, tenant.organisation_id), [], NOW) == []
        assert _count(session, tenant.organisation_id) == (0, 0, 0, 0)


# --------------------------------------------------------------------------------------------
# Tenancy


def test_customers_and_tax_rates_of_another_organisation_are_not_found(
    session_factory, tenant, other_tenant
) -> None:
    org, other = tenant.organisation_id, other_tenant.organisation_id
    with session_scope(session_factory) as session:
        mine = _customer(session, org)
        theirs = _customer(session, other)
        their_rate = _tax_rate(session, other)
    with session_scope(session_factory) as session:
        their_customer = customers.get_customer(session, other, theirs)
        cases = [
            (InvoiceRequest(_body(theirs)), "customer_not_found"),
            # A loaded customer of another organisation is refused too, whoever passed it in.
            (InvoiceRequest(_body(theirs), customer=their_customer), "customer_not_found"),
            # ... and so is a customer that is not the body's.
            (InvoiceRequest(_body(mine), customer=their_customer), "customer_not_found"),
            (
                InvoiceRequest(
                    _body(
                        mine, lines=[{"description": "x", "unit_price": "1", "tax_rate_id": str(their_rate)}]
                    )
                ),
                "tax_rate_not_found",
            ),
        ]
        actor = _actor(session, org)
        for request, code in cases:
            with pytest.raises(InvoiceRequestFailed) as caught:
                create_invoices(session, actor, [InvoiceRequest(_body(mine)), request], NOW)
            assert (caught.value.index, caught.value.code, caught.value.status) == (1, code, 404)
    with session_scope(session_factory) as session:
        assert _count(session, org) == (0, 0, 0, 0)
        assert _count(session, other) == (0, 0, 0, 0)


def test_a_customer_passed_in_is_the_buyer_and_results_load_within_the_organisation(
    session_factory, tenant
) -> None:
    org = tenant.organisation_id
    with session_scope(session_factory) as session:
        customer_id = _customer(session, org, name="Passed In GmbH")
    with session_scope(session_factory) as session:
        customer = customers.get_customer(session, org, customer_id)
        created = create_invoices(
            session, _actor(session, org), [InvoiceRequest(_body(customer_id), customer=customer)], NOW
        )
    with session_scope(session_factory) as session:
        (invoice,) = service.get_invoices(session, org, [created[0].id])
        assert invoice.customer_id == customer_id
        assert invoice.customer_snapshot["name"] == "Passed In GmbH"
        assert invoice.seller_snapshot["legal_name"] == "Seller GmbH"
        assert service.get_invoices(session, uuid.uuid4(), [created[0].id]) == []
