"""The SEPA credit transfer QR code ("GiroCode", EPC069-12 version 002): payload and symbol.

Pure: values in, text or a QR symbol out. Banking apps read the payload to prefill a transfer of
`amount` euros to `iban` with `remittance` (the invoice number) as the unstructured reference.
"""

from __future__ import annotations

from decimal import Decimal

import segno

# EPC069-12 limits: name 70, unstructured remittance 140 characters; EUR 0.01 to 999999999.99.
_MAX_NAME = 70
_MAX_REMITTANCE = 140
_MAX_AMOUNT = Decimal("999999999.99")
_CENT = Decimal("0.01")


class NoGiroCode(ValueError):
    """The payment cannot be expressed as a GiroCode (not EUR, nothing due, no IBAN)."""


def _one_line(value: str, limit: int) -> str:
    return " ".join(value.split())[:limit]


def epc_payload(*, name: str, iban: str, amount: Decimal, remittance: str, bic: str | None = None) -> str:
    """The EPC QR payload of a SEPA credit transfer of `amount` EUR (at most two decimals)."""
    if not amount.is_finite() or amount != amount.quantize(_CENT):
        raise NoGiroCode(f"amount {amount} is not a euro amount with at most two decimals")
    if not _CENT <= amount <= _MAX_AMOUNT:
        raise NoGiroCode(f"amount {amount} is outside EUR 0.01 .. {_MAX_AMOUNT}")
    compact_iban = iban.replace(" ", "").upper()
    if not compact_iban:
        raise NoGiroCode("no IBAN to pay to")
    lines = [
        "BCD",  # service tag
        "002",  # version: the BIC is optional within the EEA
        "1",  # character set: UTF-8
        "SCT",  # SEPA credit transfer
        (bic or "").replace(" ", "").upper(),
        _one_line(name, _MAX_NAME),
        compact_iban,
        f"EUR{amount.quantize(_CENT)}",
        "",  # purpose code
        "",  # structured creditor reference (we give the unstructured text instead)
        _one_line(remittance, _MAX_REMITTANCE),
    ]
    return "\n".join(lines)


def giro_code(payload: str) -> segno.QRCode:
    """The QR symbol of an EPC payload: error correction M, as EPC069-12 requires, UTF-8 bytes."""
    return segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")


def giro_code_svg(payload: str, scale: int = 4) -> str:
    """An inline <svg> of the code, dark modules on white with the quiet zone."""
    return giro_code(payload).svg_inline(scale=scale, dark="#000", light="#fff", omitsize=False)
