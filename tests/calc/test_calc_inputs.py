"""Admission of inputs: floats, non-decimals, NaN, excess decimals and malformed structures are refused."""

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal, localcontext

import pytest

from faktur.calc import (
    Adjustment,
    CalcError,
    DocumentAdjustment,
    FloatNotAllowed,
    InvalidInput,
    InvoiceInput,
    LineInput,
    NonFiniteNumber,
    NotADecimal,
    NumberOutOfRange,
    PrecisionError,
    TaxCategory,
    TaxSpec,
    compute_invoice,
    from_minor,
    quantize_money,
    to_minor,
)

S19 = TaxSpec(TaxCategory.S, Decimal("19"))
ONE = Decimal(1)


def line(**changes: object) -> LineInput:
    values: dict[str, object] = {"quantity": ONE, "unit_price": Decimal("10.00"), "tax": S19}
    values.update(changes)
    return LineInput(**values)


FLOAT_PLACES: dict[str, Callable[[], object]] = {
    "quantity": lambda: line(quantity=1.5),
    "unit_price": lambda: line(unit_price=9.99),
    "tax percent": lambda: TaxSpec(TaxCategory.S, 19.0),
    "line allowance amount": lambda: Adjustment(amount=1.0, reason="x"),
    "line charge percent": lambda: Adjustment(percent=10.0, reason="x"),
    "document amount": lambda: DocumentAdjustment(False, S19, amount=5.0),
    "document percent": lambda: DocumentAdjustment(False, S19, percent=5.0, base_amount=ONE),
    "document base amount": lambda: DocumentAdjustment(False, S19, percent=ONE, base_amount=5.0),
    "paid amount": lambda: InvoiceInput("EUR", (line(),), paid_amount=10.0),
    "rounding amount": lambda: InvoiceInput("EUR", (line(),), rounding_amount=0.01),
    "quantize_money": lambda: quantize_money(1.5, "EUR"),
    "to_minor": lambda: to_minor(1.5, "EUR"),
    "from_minor": lambda: from_minor(150.0, "EUR"),
}


@pytest.mark.parametrize("build", FLOAT_PLACES.values(), ids=FLOAT_PLACES.keys())
def test_a_float_anywhere_on_the_money_path_raises(build: Callable[[], object]) -> None:
    with pytest.raises(FloatNotAllowed) as caught:
        build()
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, CalcError)
    assert caught.value.code == "float_not_allowed"


@pytest.mark.parametrize("value", [1, "1.5", True, None])
def test_non_decimal_numbers_are_refused(value: object) -> None:
    with pytest.raises(NotADecimal) as caught:
        line(quantity=value)
    assert caught.value.code == "not_a_decimal"
    assert caught.value.field == "quantity"


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(value: str) -> None:
    with pytest.raises(NonFiniteNumber):
        line(unit_price=Decimal(value))


def test_absurd_magnitudes_are_refused() -> None:
    with pytest.raises(NumberOutOfRange):
        line(quantity=Decimal("1E+15"))


@pytest.mark.parametrize("field", ["quantity", "unit_price"])
def test_six_decimals_are_accepted_seven_are_not(field: str) -> None:
    assert getattr(line(**{field: Decimal("0.000125")}), field) == Decimal("0.000125")
    with pytest.raises(PrecisionError) as caught:
        line(**{field: Decimal("0.0000001")})
    assert caught.value.code == "too_many_decimals"
    assert "0.0000001" in caught.value.message


def test_trailing_zeros_do_not_count_as_decimals() -> None:
    assert line(quantity=Decimal("1.50000000000")).quantity == Decimal("1.5")


def test_tax_rate_with_seven_decimals_is_refused() -> None:
    with pytest.raises(PrecisionError):
        TaxSpec(TaxCategory.S, Decimal("19.0000001"))


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: InvoiceInput("EUR", (line(),), paid_amount=Decimal("1.005")), "paid_amount"),
        (
            lambda: InvoiceInput(
                "EUR", (line(allowances=(Adjustment(amount=Decimal("0.001"), reason="x"),)),)
            ),
            "lines[0].allowances[0].amount",
        ),
        (
            lambda: InvoiceInput(
                "JPY", (line(unit_price=ONE),), (DocumentAdjustment(True, S19, amount=Decimal("0.5")),)
            ),
            "adjustments[0].amount",
        ),
    ],
)
def test_money_amounts_must_be_exact_in_the_currency(build: Callable[[], object], field: str) -> None:
    with pytest.raises(PrecisionError) as caught:
        build()
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: Adjustment(reason="x"), "amount_xor_percent"),
        (lambda: Adjustment(amount=ONE, percent=ONE, reason="x"), "amount_xor_percent"),
        (lambda: DocumentAdjustment(False, S19, percent=Decimal(10)), "base_amount_required"),
        (lambda: TaxSpec(TaxCategory.S, Decimal("-1")), "negative_tax_rate"),
        (lambda: TaxSpec("X", Decimal(0)), "unknown_tax_category"),
        (lambda: InvoiceInput("EUR", ("not a line",)), "invalid_input"),
    ],
)
def test_malformed_structures_are_refused(build: Callable[[], object], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build()
    assert caught.value.code == code


def test_category_given_as_string_is_coerced() -> None:
    assert TaxSpec("AE", Decimal(0)).category is TaxCategory.AE


def test_lists_are_accepted_and_stored_as_tuples() -> None:
    invoice = InvoiceInput("EUR", [line()])
    assert invoice.lines == (line(),)


def test_blank_exemption_reason_counts_as_none() -> None:
    assert TaxSpec(TaxCategory.E, Decimal(0), exemption_reason="  ").exemption_reason is None


def test_conflicting_exemption_reasons_in_one_group_cannot_be_computed() -> None:
    e1 = TaxSpec(TaxCategory.E, Decimal(0), exemption_reason="Art. 132 (1)(g)")
    e2 = TaxSpec(TaxCategory.E, Decimal(0), exemption_reason="Art. 135 (1)(b)")
    invoice = InvoiceInput("EUR", (line(tax=e1), line(tax=e2)))
    with pytest.raises(InvalidInput) as caught:
        compute_invoice(invoice)
    assert caught.value.code == "conflicting_exemption_reasons"


def test_the_callers_decimal_context_does_not_change_results() -> None:
    invoice = InvoiceInput("EUR", (line(quantity=Decimal("3"), unit_price=Decimal("0.335")),))
    expected = compute_invoice(invoice)
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_DOWN
        assert compute_invoice(invoice) == expected
    assert str(expected.totals.tax_inclusive_total) == "1.20"  # 1.005 -> 1.01; tax 0.1919 -> 0.19
