"""Invoice documents rendered from one immutable snapshot: PDF/A-3b, Factur-X, UBL 2.1 and CII D16B.

Pure: a snapshot in, bytes out; no database, clock or network. Call `missing_fields` first and turn a
non-empty list into a 422; the renderers render what they are given. The official EN 16931, XRechnung
and Peppol rule sets check the output in the test suite (tests/official_validator.py).
"""

from faktur.documents.cii.builder import render_cii
from faktur.documents.facturx import render_facturx
from faktur.documents.pdf.render import render_pdf
from faktur.documents.profiles import MissingField, Profile, Syntax, missing_fields
from faktur.documents.snapshot import InvoiceSnapshot
from faktur.documents.ubl.builder import render_ubl

__all__ = [
    "InvoiceSnapshot",
    "MissingField",
    "Profile",
    "Syntax",
    "missing_fields",
    "render_cii",
    "render_facturx",
    "render_pdf",
    "render_ubl",
]
