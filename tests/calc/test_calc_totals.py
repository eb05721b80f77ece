"""Hand-computed invoices: every expected figure is worked out in the comments beside it."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from faktur.calc import (
    Adjustment,
    DocumentAdjustment,
    InvoiceInput,
    InvoiceResult,
    LineInput,
    TaxCategory,
    TaxSpec,
    compute_invoice,
)

D = Decimal
S19 = TaxSpec(TaxCategory.S, D("19"))
S7 = TaxSpec(TaxCategory.S, D("7"))
S8 = TaxSpec(TaxCategory.S, D("8"))
S10 = TaxSpec(TaxCategory.S, D("10"))
S5 = TaxSpec(TaxCategory.S, D("5"))
Z0 = TaxSpec(TaxCategory.Z, D("0"))
AE = TaxSpec(TaxCategory.AE, D("0"), exemption_reason_code="VATEX-EU-AE")


def ln(quantity: str, price: str, tax: TaxSpec, **kwargs: object) -> LineInput:
    return LineInput(D(quantity), D(price), tax, **kwargs)


@dataclass(frozen=True)
class Case:
    name: str
    invoice: InvoiceInput
    line_nets: tuple[str, ...]
    groups: tuple[tuple[str, str, str, str], ...]  # (category, percent, taxable BT-116, tax BT-117)
    # BT-106, BT-107, BT-108, BT-109, BT-110, BT-112, BT-115
    totals: tuple[str, str, str, str, str, str, str]


CASES = [
    Case(
        "3 x 0.333 at 19 %",
        # 3 x 0.333 = 0.999 -> 1.00; tax 1.00 x 19 % = 0.19
        InvoiceInput("EUR", (ln("3", "0.333", S19),)),
        ("1.00",),
        (("S", "19.00", "1.00", "0.19"),),
        ("1.00", "0.00", "0.00", "1.00", "0.19", "1.19", "1.19"),
    ),
    Case(
        "7 % and 19 % on one invoice",
        # 2 x 12.50 = 25.00 (19 %), 1 x 9.99 = 9.99 (7 %), 3 x 1.15 = 3.45 (19 %)
        # 19 %: base 28.45, tax 5.4055 -> 5.41;  7 %: base 9.99, tax 0.6993 -> 0.70
        # BT-109 38.44, BT-110 6.11, BT-112 44.55
        InvoiceInput("EUR", (ln("2", "12.50", S19), ln("1", "9.99", S7), ln("3", "1.15", S19))),
        ("25.00", "9.99", "3.45"),
        (("S", "7.00", "9.99", "0.70"), ("S", "19.00", "28.45", "5.41")),
        ("38.44", "0.00", "0.00", "38.44", "6.11", "44.55", "44.55"),
    ),
    Case(
        "100.00 with a 10 % line allowance at 19 %",
        # allowance 10 % of 100.00 = 10.00; net 90.00; tax 17.10
        InvoiceInput(
            "EUR", (ln("1", "100.00", S19, allowances=(Adjustment(percent=D("10"), reason="Loyalty"),)),)
        ),
        ("90.00",),
        (("S", "19.00", "90.00", "17.10"),),
        ("90.00", "0.00", "0.00", "90.00", "17.10", "107.10", "107.10"),
    ),
    Case(
        "line allowance and charge, both rounded",
        # amount 3 x 3.33 = 9.99; allowance 3.5 % of 9.99 = 0.34965 -> 0.35; charge 1.00
        # net 9.99 - 0.35 + 1.00 = 10.64; tax 10.64 x 19 % = 2.0216 -> 2.02
        InvoiceInput(
            "EUR",
            (
                ln(
                    "3",
                    "3.33",
                    S19,
                    allowances=(Adjustment(percent=D("3.5"), reason="Discount"),),
                    charges=(Adjustment(amount=D("1"), reason="Handling"),),
                ),
            ),
        ),
        ("10.64",),
        (("S", "19.00", "10.64", "2.02"),),
        ("10.64", "0.00", "0.00", "10.64", "2.02", "12.66", "12.66"),
    ),
    Case(
        "JPY with 8 % and 10 %",
        # 3 x 398 = 1194 (8 %), 1 x 1985 (10 %), 2 x 105 = 210 (8 %)
        # 8 %: base 1404, tax 112.32 -> 112;  10 %: base 1985, tax 198.5 -> 199 (half up)
        InvoiceInput("JPY", (ln("3", "398", S8), ln("1", "1985", S10), ln("2", "105", S8))),
        ("1194", "1985", "210"),
        (("S", "8.00", "1404", "112"), ("S", "10.00", "1985", "199")),
        ("3389", "0", "0", "3389", "311", "3700", "3700"),
    ),
    Case(
        "KWD with three decimals",
        # 2.5 x 1.2345 = 3.08625 -> 3.086; 1 x 0.0125 -> 0.013 (half up at the third decimal)
        # base 3.099, tax 5 % = 0.15495 -> 0.155
        InvoiceInput("KWD", (ln("2.5", "1.2345", S5), ln("1", "0.0125", S5))),
        ("3.086", "0.013"),
        (("S", "5.00", "3.099", "0.155"),),
        ("3.099", "0.000", "0.000", "3.099", "0.155", "3.254", "3.254"),
    ),
    Case(
        "quantity and price with six decimals",
        # 1.5 hours x 0.000125 = 0.0001875 -> 0.00; 0.125 kg x 12.99 = 1.62375 -> 1.62
        InvoiceInput("EUR", (ln("1.5", "0.000125", S19), ln("0.125", "12.99", S19))),
        ("0.00", "1.62"),
        (("S", "19.00", "1.62", "0.31"),),  # 1.62 x 19 % = 0.3078 -> 0.31
        ("1.62", "0.00", "0.00", "1.62", "0.31", "1.93", "1.93"),
    ),
    Case(
        "tax inclusive 119.00 at 19 %",
        # G 119.00; tax 119 x 19 / 119 = 19.00; net 100.00
        InvoiceInput("EUR", (ln("1", "119.00", S19),), prices_include_tax=True),
        ("100.00",),
        (("S", "19.00", "100.00", "19.00"),),
        ("100.00", "0.00", "0.00", "100.00", "19.00", "119.00", "119.00"),
    ),
    Case(
        "tax inclusive 9.99 x 3 at 7 %",
        # G 29.97; tax 29.97 x 7 / 107 = 1.96065... -> 1.96; net 28.01
        # line net 29.97 x 100 / 107 = 28.0093 -> 28.01: no residual
        InvoiceInput("EUR", (ln("3", "9.99", S7),), prices_include_tax=True),
        ("28.01",),
        (("S", "7.00", "28.01", "1.96"),),
        ("28.01", "0.00", "0.00", "28.01", "1.96", "29.97", "29.97"),
    ),
    Case(
        "tax inclusive 9.99 on three lines at 7 %: the residual cent goes to one line",
        # G 29.97, tax 1.96, net 28.01 as above; each line 9.99 / 1.07 = 9.3364 -> 9.34,
        # together 28.02: one cent too many, taken from the first of the (identical) lines
        InvoiceInput("EUR", (ln("1", "9.99", S7),) * 3, prices_include_tax=True),
        ("9.33", "9.34", "9.34"),
        (("S", "7.00", "28.01", "1.96"),),
        ("28.01", "0.00", "0.00", "28.01", "1.96", "29.97", "29.97"),
    ),
    Case(
        "tax inclusive with a gross document allowance",
        # line gross 119.00 -> net 100.00; allowance gross 11.90 -> net 10.00
        # G 107.10; tax 107.10 x 19 / 119 = 17.10; net 90.00 = 100.00 - 10.00
        InvoiceInput(
            "EUR",
            (ln("1", "119.00", S19),),
            (DocumentAdjustment(False, S19, amount=D("11.90"), reason="Voucher"),),
            prices_include_tax=True,
        ),
        ("100.00",),
        (("S", "19.00", "90.00", "17.10"),),
        ("100.00", "10.00", "0.00", "90.00", "17.10", "107.10", "107.10"),
    ),
    Case(
        "reverse charge",
        # AE: rate 0, the buyer accounts for the VAT; 4 x 250.00 = 1000.00
        InvoiceInput("EUR", (ln("4", "250.00", AE),)),
        ("1000.00",),
        (("AE", "0.00", "1000.00", "0.00"),),
        ("1000.00", "0.00", "0.00", "1000.00", "0.00", "1000.00", "1000.00"),
    ),
    Case(
        "a credit line that makes the group negative",
        # 10.00 - 10.50 = -0.50; tax -0.50 x 19 % = -0.095 -> -0.10 (half away from zero, so a
        # credit note mirrors the invoice it corrects)
        InvoiceInput("EUR", (ln("1", "10.00", S19), ln("-1", "10.50", S19))),
        ("10.00", "-10.50"),
        (("S", "19.00", "-0.50", "-0.10"),),
        ("-0.50", "0.00", "0.00", "-0.50", "-0.10", "-0.60", "-0.60"),
    ),
    Case(
        "a percentage allowance on a credit line keeps the sign",
        # -2 x 50.00 = -100.00; allowance 10 % = -10.00; net -90.00; tax -17.10
        InvoiceInput(
            "EUR", (ln("-2", "50.00", S19, allowances=(Adjustment(percent=D("10"), reason="Discount"),)),)
        ),
        ("-90.00",),
        (("S", "19.00", "-90.00", "-17.10"),),
        ("-90.00", "0.00", "0.00", "-90.00", "-17.10", "-107.10", "-107.10"),
    ),
    Case(
        "document allowance and charges with their own categories, paid and rounding",
        # lines 200.00 (19 %), 50.00 (7 %)
        # allowance 10.00 at 19 %; charge 5.00 at 7 %; charge 2 % of 250.00 = 5.00 zero rated
        # 19 %: 200 - 10 = 190.00, tax 36.10;  7 %: 50 + 5 = 55.00, tax 3.85;  Z: 5.00, tax 0.00
        # BT-109 = 250 - 10 + 10 = 250.00; BT-110 39.95; BT-112 289.95
        # BT-115 = 289.95 - 100.00 paid + 0.05 rounding = 190.00
        InvoiceInput(
            "EUR",
            (ln("1", "200.00", S19), ln("1", "50.00", S7)),
            (
                DocumentAdjustment(False, S19, amount=D("10.00"), reason="Discount"),
                DocumentAdjustment(True, S7, amount=D("5.00"), reason="Packing"),
                DocumentAdjustment(True, Z0, percent=D("2"), base_amount=D("250.00"), reason="Insurance"),
            ),
            paid_amount=D("100.00"),
            rounding_amount=D("0.05"),
        ),
        ("200.00", "50.00"),
        (("S", "7.00", "55.00", "3.85"), ("S", "19.00", "190.00", "36.10"), ("Z", "0.00", "5.00", "0.00")),
        ("250.00", "10.00", "10.00", "250.00", "39.95", "289.95", "190.00"),
    ),
]


def _strings(result: InvoiceResult) -> tuple[object, ...]:
    t = result.totals
    return (
        tuple(str(line.net) for line in result.lines),
        tuple(
            (g.category.value, str(g.percent), str(g.taxable_amount), str(g.tax_amount))
            for g in result.tax_groups
        ),
        tuple(
            str(v)
            for v in (
                t.line_net_total,
                t.allowance_total,
                t.charge_total,
                t.tax_exclusive_total,
                t.tax_total,
                t.tax_inclusive_total,
                t.amount_due,
            )
        ),
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hand_computed_invoice(case: Case) -> None:
    assert _strings(compute_invoice(case.invoice)) == (case.line_nets, case.groups, case.totals)


def test_inclusive_line_keeps_the_gross_the_customer_saw() -> None:
    result = compute_invoice(InvoiceInput("EUR", (ln("3", "9.99", S7),), prices_include_tax=True))
    line = result.lines[0]
    assert (str(line.amount), str(line.gross), str(line.net)) == ("29.97", "29.97", "28.01")


def test_exclusive_line_has_no_gross() -> None:
    assert compute_invoice(InvoiceInput("EUR", (ln("1", "1.00", S19),))).lines[0].gross is None


def test_inclusive_document_allowance_reports_net_and_gross() -> None:
    result = compute_invoice(CASES[10].invoice)
    adjustment = result.adjustments[0]
    assert (str(adjustment.amount), str(adjustment.gross)) == ("10.00", "11.90")


def test_line_allowances_and_charges_are_reported_one_by_one() -> None:
    result = compute_invoice(CASES[3].invoice)
    line = result.lines[0]
    assert line.allowance_amounts == (D("0.35"),)
    assert line.charge_amounts == (D("1.00"),)
    assert (str(line.amount), str(line.allowance_total), str(line.charge_total)) == ("9.99", "0.35", "1.00")


def test_group_inherits_the_exemption_reason_stated_on_one_line() -> None:
    with_reason = TaxSpec(TaxCategory.E, D(0), exemption_reason="Art. 132 (1)(g) VAT Directive")
    without = TaxSpec(TaxCategory.E, D(0))
    result = compute_invoice(InvoiceInput("EUR", (ln("1", "5.00", without), ln("1", "7.00", with_reason))))
    (group,) = result.tax_groups
    assert group.exemption_reason == "Art. 132 (1)(g) VAT Directive"
    assert str(group.taxable_amount) == "12.00"


def test_rates_spelled_differently_share_one_group() -> None:
    specs = (TaxSpec(TaxCategory.S, D("19")), TaxSpec(TaxCategory.S, D("19.000")))
    result = compute_invoice(InvoiceInput("EUR", tuple(ln("1", "1.00", s) for s in specs)))
    assert [(str(g.percent), str(g.taxable_amount)) for g in result.tax_groups] == [("19.00", "2.00")]


def test_zero_quantity_of_a_negative_price_is_a_positive_zero() -> None:
    result = compute_invoice(InvoiceInput("EUR", (ln("0", "-5.00", S19),)))
    assert str(result.lines[0].net) == "0.00"
    assert str(result.totals.amount_due) == "0.00"


def test_an_invoice_without_lines_computes_to_zero() -> None:
    # Drafts may be empty; BR-16 (at least one line) is reported by line_rule_violations.
    result = compute_invoice(InvoiceInput("KWD", ()))
    assert str(result.totals.amount_due) == "0.000"
    assert result.tax_groups == ()
