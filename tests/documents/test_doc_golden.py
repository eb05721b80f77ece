"""Golden files for one UBL and one CII invoice.

A change to the XML output shows up as a diff here. To accept an intended change, regenerate with
    FAKTUR_UPDATE_GOLDEN=1 .venv/bin/pytest tests/documents/test_doc_golden.py
and review the diff of tests/documents/golden/*.xml before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from document_factories import corpus

from faktur.documents.cii.builder import render_cii
from faktur.documents.ubl.builder import render_ubl

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(
    ("filename", "render"),
    [("invoice-ubl.xml", render_ubl), ("invoice-cii.xml", render_cii)],
)
def test_xml_matches_golden_file(filename: str, render: object) -> None:
    xml = render(corpus()["two_rates_allowances_charges"])
    path = GOLDEN / filename
    if os.environ.get("FAKTUR_UPDATE_GOLDEN") == "1":
        path.write_bytes(xml)
    assert xml == path.read_bytes(), f"{filename} changed; see this module's docstring to regenerate"
