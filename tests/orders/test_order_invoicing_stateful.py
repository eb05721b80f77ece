"""Property (hypothesis stateful): over any sequence of partial invoices, whole-order invoices,
over-requests and voids, each line's invoiced quantity equals the sum over its live invoices,
never exceeds the ordered quantity, and the API's answers agree with a simple model."""

from __future__ import annotations

import uuid
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from order_factories import create_order, order_line
from sqlalchemy import select

from factories import create_customer
from faktur.db import session_scope
from faktur.models import InvoiceLine

ORDERED = [Decimal("5"), Decimal("2.5"), Decimal("1")]
DISCOUNTS = ["1.00", "0.10", None]
QUANTITIES = st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("1.25"), Decimal("2"), Decimal("3")])


def test_invoiced_quantities_never_exceed_ordered_over_any_sequence(client, tenant, session_factory) -> None:
    headers = tenant.headers
    customer = create_customer(client, headers)

    class OrderInvoicing(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            lines = [
                order_line(
                    name=f"L{i}",
                    quantity=str(q),
                    unit_price="9.99",
                    **({"discount": {"amount": d}} if d else {}),
                )
                for i, (q, d) in enumerate(zip(ORDERED, DISCOUNTS, strict=True))
            ]
            self.order = create_order(client, headers, customer["id"], lines)
            self.line_ids = [ln["id"] for ln in self.order["lines"]]
            self.invoiced = [Decimal(0)] * len(ORDERED)
            self.live: dict[str, list[Decimal]] = {}

        def _post(self, body: dict):
            return client.post(
                f"/v1/orders/{self.order['id']}/invoices", json={**body, "finalize": True}, headers=headers
            )

        def _remaining(self, index: int) -> Decimal:
            return ORDERED[index] - self.invoiced[index]

        def _record(self, invoice: dict) -> None:
            quantities = [Decimal(0)] * len(ORDERED)
            for line in invoice["lines"]:
                quantities[self.line_ids.index(line["source"]["id"])] += Decimal(line["quantity"])
            self.live[invoice["id"]] = quantities
            self.invoiced = [a + b for a, b in zip(self.invoiced, quantities, strict=True)]

        @rule(index=st.integers(0, len(ORDERED) - 1), quantity=QUANTITIES)
        def invoice_part(self, index: int, quantity: Decimal) -> None:
            response = self._post(
                {"lines": [{"order_line_id": self.line_ids[index], "quantity": str(quantity)}]}
            )
            if all(self._remaining(i) == 0 for i in range(len(ORDERED))):
                assert (
                    response.status_code == 409 and response.json()["error"]["code"] == "order_fully_invoiced"
                )
            elif quantity > self._remaining(index):
                assert response.status_code == 409, response.text
                error = response.json()["error"]
                assert error["code"] == "quantity_exceeds_remaining"
                assert Decimal(error["details"][0]["remaining_quantity"]) == self._remaining(index)
            else:
                assert response.status_code == 201, response.text
                self._record(response.json())

        @rule()
        def invoice_rest(self) -> None:
            response = self._post({})
            if all(self._remaining(i) == 0 for i in range(len(ORDERED))):
                assert (
                    response.status_code == 409 and response.json()["error"]["code"] == "order_fully_invoiced"
                )
            else:
                assert response.status_code == 201, response.text
                self._record(response.json())

        @rule(index=st.integers(0, len(ORDERED) - 1))
        def over_request(self, index: int) -> None:
            too_much = self._remaining(index) + Decimal("0.000001")
            response = self._post(
                {"lines": [{"order_line_id": self.line_ids[index], "quantity": str(too_much)}]}
            )
            assert response.status_code == 409

        @precondition(lambda self: bool(self.live))
        @rule(data=st.data())
        def void(self, data: st.DataObject) -> None:
            # In the order they were created: sorting the (random) ids would let the same draw pick
            # another invoice when hypothesis replays a case, which it reports as flaky data.
            invoice_id = data.draw(st.sampled_from(list(self.live)))
            response = client.post(f"/v1/invoices/{invoice_id}/void", headers=headers)
            assert response.status_code == 200, response.text
            quantities = self.live.pop(invoice_id)
            self.invoiced = [a - b for a, b in zip(self.invoiced, quantities, strict=True)]

        @invariant()
        def quantities_agree_everywhere(self) -> None:
            order = client.get(f"/v1/orders/{self.order['id']}", headers=headers).json()
            shown = [Decimal(ln["invoiced_quantity"]) for ln in order["lines"]]
            remaining = [Decimal(ln["remaining_quantity"]) for ln in order["lines"]]
            assert shown == self.invoiced
            assert all(Decimal(0) <= r for r in remaining)
            assert all(s <= o for s, o in zip(shown, ORDERED, strict=True))
            ids = [uuid.UUID(i) for i in self.line_ids]
            with session_scope(session_factory) as session:
                rows = session.execute(
                    select(InvoiceLine.source_id, InvoiceLine.quantity, InvoiceLine.allowances).where(
                        InvoiceLine.source_kind == "order_line",
                        InvoiceLine.live.is_(True),
                        InvoiceLine.source_id.in_(ids),
                    )
                ).all()
            live_sum = [sum((q for s, q, _ in rows if s == i), Decimal(0)) for i in ids]
            assert live_sum == self.invoiced
            for i, discount in enumerate(DISCOUNTS):
                shares = sum(
                    (Decimal(a["amount"]) for s, _, allowances in rows if s == ids[i] for a in allowances),
                    Decimal(0),
                )
                if discount is None:
                    assert shares == 0
                elif self.invoiced[i] == ORDERED[i]:
                    assert shares == Decimal(discount)  # a fully invoiced line carries its whole discount
                else:
                    assert shares <= Decimal(discount)

    run_state_machine_as_test(
        OrderInvoicing,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
