"""Properties over random invoices: the EN 16931 identities hold exactly, whatever the input."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from faktur.calc import (
    Adjustment,
    DocumentAdjustment,
    InvoiceInput,
    InvoiceResult,
    LineInput,
    TaxCategory,
    TaxSpec,
    compute_invoice,
    minor_units,
)

D = Decimal
C = TaxCategory
CURRENCIES = ["EUR", "USD", "JPY", "KRW", "KWD", "BHD", "CHF"]
# A consistent pool: every item of one category states the same exemption reason.
TAX_SPECS = [
    TaxSpec(C.S, D("19")),
    TaxSpec(C.S, D("7")),
    TaxSpec(C.S, D("20")),
    TaxSpec(C.S, D("5.5")),
    TaxSpec(C.S, D("7.7")),
    TaxSpec(C.S, D("8.125")),
    TaxSpec(C.S, D("0.000001")),
    TaxSpec(C.S, D("99.999999")),
    TaxSpec(C.Z, D("0")),
    TaxSpec(C.E, D("0"), exemption_reason="Exempt under Art. 132 VAT Directive"),
    TaxSpec(C.AE, D("0"), exemption_reason_code="VATEX-EU-AE"),
    TaxSpec(C.L, D("7")),
    TaxSpec(C.M, D("4")),
]
SETTINGS = settings(max_examples=300, deadline=None)


def scaled(max_coefficient: int, max_places: int) -> st.SearchStrategy[Decimal]:
    return st.builds(
        lambda n, places: D(n).scaleb(-places),
        st.integers(-max_coefficient, max_coefficient),
        st.integers(0, max_places),
    )


quantities = st.one_of(scaled(100, 3), scaled(10**9, 6))
prices = st.one_of(scaled(100_000, 2), scaled(10**9, 6))
percents = st.one_of(st.sampled_from([D(0), D(3), D(10), D("12.5"), D(100)]), scaled(10**8, 6).map(abs))


@st.composite
def invoices(draw: st.DrawFn, inclusive: bool | None = None) -> InvoiceInput:
    currency = draw(st.sampled_from(CURRENCIES))
    digits = minor_units(currency)
    money = st.one_of(st.integers(-(10**4), 10**4), st.integers(-(10**9), 10**9)).map(
        lambda n: D(n).scaleb(-digits)
    )
    adjustment = st.one_of(
        st.builds(Adjustment, amount=money, reason=st.just("fixed")),
        st.builds(Adjustment, percent=percents, reason=st.just("percent")),
    )
    line = st.builds(
        LineInput,
        quantity=quantities,
        unit_price=prices,
        tax=st.sampled_from(TAX_SPECS),
        allowances=st.lists(adjustment, max_size=2).map(tuple),
        charges=st.lists(adjustment, max_size=2).map(tuple),
    )
    document_adjustment = st.one_of(
        st.builds(DocumentAdjustment, is_charge=st.booleans(), tax=st.sampled_from(TAX_SPECS), amount=money),
        st.builds(
            DocumentAdjustment,
            is_charge=st.booleans(),
            tax=st.sampled_from(TAX_SPECS),
            percent=percents,
            base_amount=money,
        ),
    )
    return InvoiceInput(
        currency,
        tuple(draw(st.lists(line, max_size=12))),
        tuple(draw(st.lists(document_adjustment, max_size=4))),
        prices_include_tax=draw(st.booleans()) if inclusive is None else inclusive,
        paid_amount=draw(money),
        rounding_amount=draw(money),
    )


def _in_group(tax: TaxSpec, category: TaxCategory, percent: Decimal) -> bool:
    return tax.category is category and tax.percent == percent


@given(invoices())
@SETTINGS
def test_br_co_identities_hold_exactly(invoice: InvoiceInput) -> None:
    result = compute_invoice(invoice)
    t = result.totals
    allowances = [a.amount for a in result.adjustments if not a.is_charge]
    charges = [a.amount for a in result.adjustments if a.is_charge]
    assert t.line_net_total == sum(line.net for line in result.lines)  # BR-CO-10
    assert t.allowance_total == sum(allowances)  # BR-CO-11
    assert t.charge_total == sum(charges)  # BR-CO-12
    assert t.tax_exclusive_total == t.line_net_total - t.allowance_total + t.charge_total  # BR-CO-13
    assert t.tax_total == sum(group.tax_amount for group in result.tax_groups)  # BR-CO-14
    assert t.tax_inclusive_total == t.tax_exclusive_total + t.tax_total  # BR-CO-15
    assert t.amount_due == t.tax_inclusive_total - t.paid_amount + t.rounding_amount  # BR-CO-16
    assert t.paid_amount == invoice.paid_amount
    assert t.rounding_amount == invoice.rounding_amount
    for group in result.tax_groups:  # BR-S-08, BR-Z-08, BR-E-08, ...: BT-116 per group
        expected = sum(
            (line.net for line in result.lines if _in_group(line.tax, group.category, group.percent)), D(0)
        )
        for adjustment in result.adjustments:
            if _in_group(adjustment.tax, group.category, group.percent):
                expected += adjustment.amount if adjustment.is_charge else -adjustment.amount
        assert group.taxable_amount == expected
    keys = [(group.category, group.percent) for group in result.tax_groups]
    assert len(set(keys)) == len(keys)
    assert keys == sorted(keys, key=lambda key: (list(TaxCategory).index(key[0]), key[1]))
    used = {(item.tax.category, item.tax.percent) for item in (*invoice.lines, *invoice.adjustments)}
    assert set(keys) == used


@given(invoices())
@SETTINGS
def test_line_figures_add_up(invoice: InvoiceInput) -> None:
    for line in compute_invoice(invoice).lines:
        assert line.allowance_total == sum(line.allowance_amounts)
        assert line.charge_total == sum(line.charge_amounts)
        shown = line.gross if invoice.prices_include_tax else line.net
        assert shown == line.amount - line.allowance_total + line.charge_total


def _walk(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, tuple):
        for item in value:
            yield from _walk(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _walk(getattr(value, field.name))


def _amounts(result: InvoiceResult) -> Iterator[Decimal | None]:
    for line in result.lines:
        yield from (line.amount, line.allowance_total, line.charge_total, line.net, line.gross)
        yield from (*line.allowance_amounts, *line.charge_amounts)
    for adjustment in result.adjustments:
        yield from (adjustment.amount, adjustment.gross, adjustment.base_amount)
    for group in result.tax_groups:
        yield from (group.taxable_amount, group.tax_amount)
    yield from result.totals


@given(invoices())
@SETTINGS
def test_results_hold_no_float_and_canonical_amounts(invoice: InvoiceInput) -> None:
    result = compute_invoice(invoice)
    assert not any(isinstance(value, float) for value in _walk(result))
    exponent = -minor_units(invoice.currency)
    for amount in _amounts(result):
        if amount is None:
            continue
        assert type(amount) is Decimal
        assert amount.as_tuple().exponent == exponent, amount
        assert not (amount == 0 and amount.is_signed()), "negative zero would print as -0.00"


def _reordered(invoice: InvoiceInput, line_order: list[int], adjustment_order: list[int]) -> InvoiceInput:
    return dataclasses.replace(
        invoice,
        lines=tuple(invoice.lines[i] for i in line_order),
        adjustments=tuple(invoice.adjustments[i] for i in adjustment_order),
    )


@given(st.data())
@SETTINGS
def test_results_do_not_depend_on_line_order(data: st.DataObject) -> None:
    invoice = data.draw(invoices())
    line_order = data.draw(st.permutations(range(len(invoice.lines))))
    adjustment_order = data.draw(st.permutations(range(len(invoice.adjustments))))
    original = compute_invoice(invoice)
    shuffled = compute_invoice(_reordered(invoice, line_order, adjustment_order))
    assert repr(shuffled.totals) == repr(original.totals)
    assert repr(shuffled.tax_groups) == repr(original.tax_groups)

    # Identical lines are interchangeable, so compare (input, result) pairs as multisets.
    def pairs(inv: InvoiceInput, res: InvoiceResult) -> list[tuple[str, str]]:
        return sorted(
            [(repr(i), repr(r)) for i, r in zip(inv.lines, res.lines, strict=True)]
            + [(repr(i), repr(r)) for i, r in zip(inv.adjustments, res.adjustments, strict=True)]
        )

    assert pairs(_reordered(invoice, line_order, adjustment_order), shuffled) == pairs(invoice, original)


def _half_unit(currency: str) -> Decimal:
    return D(1).scaleb(-minor_units(currency)) / 2


@given(invoices(inclusive=False))
@SETTINGS
def test_exclusive_group_tax_is_within_half_a_minor_unit_of_exact(invoice: InvoiceInput) -> None:
    result = compute_invoice(invoice)
    with localcontext() as ctx:
        ctx.prec = 80
        for group in result.tax_groups:
            exact = group.taxable_amount * group.percent / 100
            assert abs(group.tax_amount - exact) <= _half_unit(invoice.currency)


@given(invoices(inclusive=True))
@SETTINGS
def test_inclusive_total_is_the_sum_of_the_gross_prices(invoice: InvoiceInput) -> None:
    result = compute_invoice(invoice)
    quantum = D(1).scaleb(-minor_units(invoice.currency))
    with localcontext() as ctx:
        ctx.prec = 80
        gross = sum((line.gross for line in result.lines), D(0))
        for adjustment in result.adjustments:
            assert adjustment.gross is not None
            gross += adjustment.gross if adjustment.is_charge else -adjustment.gross
        assert result.totals.tax_inclusive_total == gross
        for group in result.tax_groups:
            group_gross = group.taxable_amount + group.tax_amount
            exact_tax = group_gross * group.percent / (100 + group.percent)
            assert group.tax_amount == exact_tax.quantize(quantum, ROUND_HALF_UP)
        for line in result.lines:
            assert line.gross is not None
            exact_net = line.gross * 100 / (100 + line.tax.percent)
            # own rounding (half a unit) plus at most one residual unit
            assert abs(line.net - exact_net) <= 3 * _half_unit(invoice.currency)
