"""The catalogue of error codes: every code the API can answer with, pinned here.

A client programs against `error.code`, so removing or renaming a code is a breaking API change:
it must fail this test, and the list below changes only on purpose (with docs/errors.md). Codes
come from the `code` of every FakturError class (and every CalcError class: the money engine's
codes reach clients through the services), found by importing every module of faktur. A raise
site that passed `code="..."` itself would bypass the catalogue, so none may.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import faktur
from faktur.calc.errors import CalcError
from faktur.errors import FakturError

SOURCE = Path(faktur.__file__).parent
DOCS = Path(__file__).parent.parent / "docs" / "errors.md"

# Files whose raise sites still name codes themselves: none any more.
AWAITING_CONVERSION: set[str] = set()

CODES = [
    "ambiguous_contract",
    "amount_out_of_range",
    "amount_precision",
    "amount_xor_percent",
    "amount_zero",
    "api_key_not_found",
    "as_of_out_of_range",
    "bad_request",
    "base_amount_required",
    "billing_run_chunk_not_found",
    "billing_run_not_found",
    "calc_error",
    "conflict",
    "conflicting_exemption_reasons",
    "contract_end_before_invoiced_period",
    "contract_not_found",
    "contract_of_other_customer",
    "credit_exceeds_remaining",
    "credit_line_not_creditable",
    "credit_line_unknown",
    "credit_note_not_found",
    "credit_note_not_positive",
    "credit_settlement_mismatch",
    "credit_tax_not_on_invoice",
    "currency_not_supported",
    "customer_not_found",
    "database_busy",
    "database_corrupt",
    "database_io_error",
    "database_unavailable",
    "date_out_of_range",
    "direct_debit_currency",
    "discount_exceeds_line_amount",
    "document_data_missing",
    "document_text_not_representable",
    "due_date_before_issue_date",
    "duplicate_invoice",
    "duplicate_period",
    "email_not_configured",
    "email_recipient_missing",
    "email_sender_missing",
    "event_not_found",
    "float_not_allowed",
    "forbidden",
    "hosted_document_not_available",
    "hosted_page_not_found",
    "http_error",
    "idempotency_key_in_progress",
    "idempotency_key_reused",
    "insufficient_balance",
    "internal_error",
    "invalid_api_key",
    "invalid_charge_model",
    "invalid_cursor",
    "invalid_event",
    "invalid_idempotency_key",
    "invalid_input",
    "invalid_invoice_number",
    "invalid_number_format",
    "invalid_period_invoice",
    "invalid_property",
    "invalid_status_transition",
    "invalid_timestamp",
    "invalid_usage_value",
    "invoice_has_no_lines",
    "invoice_has_payments",
    "invoice_item_invoiced",
    "invoice_item_not_found",
    "invoice_item_out_of_scope",
    "invoice_lines_locked",
    "invoice_not_draft",
    "invoice_not_final",
    "invoice_not_found",
    "invoice_not_payable",
    "invoice_number_in_automatic_series",
    "invoice_number_taken",
    "invoice_period_locked",
    "malformed_json",
    "method_not_allowed",
    "metric_code_taken",
    "metric_not_found",
    "missing",
    "missing_api_key",
    "mixed_tax_inclusivity",
    "negative_tax_rate",
    "negative_total",
    "no_completed_period",
    "no_contract",
    "no_running_period",
    "not_a_contract_period",
    "not_a_decimal",
    "not_acceptable",
    "not_finite",
    "not_found",
    "not_the_contract_cycle",
    "nothing_to_bill",
    "order_external_reference_taken",
    "order_fully_invoiced",
    "order_line_not_in_order",
    "order_not_found",
    "organisation_mismatch",
    "organisation_not_found",
    "out_of_range",
    "outside_contract",
    "payload_too_large",
    "payment_status_mismatch",
    "period_not_completed",
    "period_overlaps_invoice",
    "quantity_exceeds_remaining",
    "range_of_in_advance_contract",
    "send_email_not_available",
    "sepa_creditor_id_missing",
    "storage_full",
    "tax_rate_not_found",
    "tax_rule_violation",
    "terms_effective_from_too_early",
    "too_many_decimals",
    "total_mismatch",
    "unauthorized",
    "unknown_currency",
    "unknown_event_type",
    "unknown_tax_category",
    "unsupported_media_type",
    "updated_at_before_order",
    "validation_error",
    "value_error",
    "webhook_endpoint_not_found",
    "webhook_url_invalid",
    "webhook_url_not_https",
    "webhook_url_private",
]


def _import_every_module() -> None:
    for module in pkgutil.walk_packages(faktur.__path__, "faktur."):
        if not module.name.startswith("faktur.migrations"):  # Alembic's env.py runs a migration
            importlib.import_module(module.name)


def _subclasses(root: type) -> set[type]:
    found = set()
    pending = [root]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                pending.append(subclass)
    return found | {root}


def _error_classes() -> set[type]:
    _import_every_module()
    return _subclasses(FakturError) | _subclasses(CalcError)


def _is_errors_module(path: Path) -> bool:
    return path.name == "errors.py"


def test_the_api_answers_with_exactly_the_catalogued_codes() -> None:
    codes = sorted({cls.code for cls in _error_classes()})
    assert codes == CODES, (
        f"new: {sorted(set(codes) - set(CODES))}, gone: {sorted(set(CODES) - set(codes))}; "
        "a gone or renamed code breaks clients, a new one belongs in CODES and docs/errors.md"
    )


def test_the_catalogue_list_is_sorted_and_without_repeats() -> None:
    assert sorted(set(CODES)) == CODES


def test_every_code_is_documented_with_its_status() -> None:
    documented = DOCS.read_text(encoding="utf-8")
    missing = [
        f"{cls.code} ({cls.status})"
        for cls in _error_classes()
        if issubclass(cls, FakturError)
        and not re.search(rf"^\| `{cls.code}` \| {cls.status} \|", documented, re.MULTILINE)
    ]
    missing += [
        cls.code
        for cls in _error_classes()
        if issubclass(cls, CalcError) and not re.search(rf"^\| `{cls.code}` \|", documented, re.MULTILINE)
    ]
    assert not missing, f"docs/errors.md lacks a row for {sorted(set(missing))}"


def test_every_error_class_says_what_its_code_means() -> None:
    undocumented = [cls.__qualname__ for cls in _error_classes() if not (cls.__doc__ or "").strip()]
    assert not undocumented


def _code_literals_at_call_sites(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, code) for every call passing `code=` a string literal (an error made on the spot)."""
    return [
        (node.lineno, keyword.value.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "code"
        and isinstance(keyword.value, ast.Constant)
        and isinstance(keyword.value.value, str)
    ]


def test_no_raise_site_outside_the_errors_modules_names_a_code() -> None:
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if _is_errors_module(path) or relative in AWAITING_CONVERSION:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{relative}:{line} code={code!r}" for line, code in _code_literals_at_call_sites(tree)]
    assert not offenders, "raise an error class of an errors.py module instead: " + ", ".join(offenders)


def test_the_check_finds_a_code_named_at_a_raise_site() -> None:
    tree = ast.parse('raise Conflict("Taken.", code="number_taken")\nraise Conflict("Taken.", code=TAKEN)\n')
    assert _code_literals_at_call_sites(tree) == [(1, "number_taken")]


def test_the_exempt_files_still_exist() -> None:
    """An exemption outliving its file would hide a new one of the same name."""
    assert all((SOURCE / relative).is_file() for relative in AWAITING_CONVERSION)
