"""The SEPA GiroCode (EPC069-12): its payload, and the symbol printed on the PDF decoded by zbarimg."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from faktur.payment_qr import NoGiroCode, epc_payload
from hosted.test_hosted_page import IBAN, issued_invoice

ZBARIMG = shutil.which("zbarimg")
GHOSTSCRIPT = shutil.which("gs")


def decode_qr(image: Path) -> list[str]:
    """Every QR code zbarimg finds in `image` (its raw bytes, as UTF-8)."""
    result = subprocess.run(
        [ZBARIMG or "zbarimg", "--quiet", "--raw", "-Sbinary", str(image)], capture_output=True, check=False
    )
    assert result.returncode in (0, 4), result.stderr  # 4: no symbol found
    return [result.stdout.decode("utf-8").rstrip("\n")] if result.stdout else []


def assert_valid_epc(payload: str, amount: str, remittance: str) -> None:
    lines = payload.split("\n")
    assert lines[:4] == ["BCD", "002", "1", "SCT"]
    assert lines[4] == "COBADEFFXXX"
    assert lines[5] == "Seller GmbH"
    assert lines[6] == IBAN
    assert lines[7] == f"EUR{amount}"
    assert lines[10] == remittance
    assert len(payload.encode()) <= 331


def test_the_payload_follows_epc069_12() -> None:
    payload = epc_payload(
        name="Seller GmbH",
        iban="DE89 3704 0044 0532 0130 00",
        bic="COBADEFFXXX",
        amount=Decimal("119.00"),
        remittance="INV-2026-00001",
    )
    assert (
        payload
        == "BCD\n002\n1\nSCT\nCOBADEFFXXX\nSeller GmbH\nDE89370400440532013000\nEUR119.00\n\n\nINV-2026-00001"
    )
    assert (
        epc_payload(name="x" * 80, iban=IBAN, amount=Decimal("1"), remittance="r").split("\n")[5] == "x" * 70
    )
    assert epc_payload(name="A", iban=IBAN, amount=Decimal("1"), remittance="r").split("\n")[4] == ""


@pytest.mark.parametrize("amount", ["0", "0.00", "-5", "1.001", "1000000000", "NaN"])
def test_amounts_a_transfer_cannot_carry_are_refused(amount: str) -> None:
    with pytest.raises(NoGiroCode):
        epc_payload(name="A", iban=IBAN, amount=Decimal(amount), remittance="r")


@pytest.mark.skipif(ZBARIMG is None or GHOSTSCRIPT is None, reason="zbarimg (zbar-tools) or gs not installed")
def test_the_pdf_carries_a_giro_code_of_the_amount_due(
    client: TestClient, tenant: Tenant, tmp_path: Path
) -> None:
    invoice = issued_invoice(client, tenant)
    pdf = client.get(f"/v1/invoices/{invoice['id']}/pdf", headers=tenant.headers)
    assert pdf.status_code == 200
    (tmp_path / "invoice.pdf").write_bytes(pdf.content)
    subprocess.run(
        [
            GHOSTSCRIPT or "gs",
            "-q",
            "-dBATCH",
            "-dNOPAUSE",
            "-dSAFER",
            "-sDEVICE=pnggray",
            "-r200",
            "-dFirstPage=1",
            "-dLastPage=1",
            f"-sOutputFile={tmp_path / 'page.png'}",
            str(tmp_path / "invoice.pdf"),
        ],
        check=True,
        capture_output=True,
    )
    [payload] = decode_qr(tmp_path / "page.png")
    assert_valid_epc(payload, "119.00", invoice["number"])
