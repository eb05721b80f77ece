"""Factur-X / ZUGFeRD (EN 16931 profile): the invoice PDF/A-3b with its CII embedded as factur-x.xml.

The factur-x package's `generate_from_binary` stamps the current time into the PDF (Info dates, XMP,
the attachment's ModDate) and adds no output intent, so its output is neither byte-stable nor complete
PDF/A. The same structure (associated file with AFRelationship, EmbeddedFiles name tree, Factur-X XMP
extension schema) is therefore written in one pass by reportlab; `facturx.get_xml_from_pdf` reads it back.
"""

from __future__ import annotations

import datetime as dt

from faktur.documents.cii.builder import render_cii
from faktur.documents.pdf.pdfa import AssociatedFile, FacturXInfo
from faktur.documents.pdf.render import build_pdf
from faktur.documents.profiles import Profile
from faktur.documents.snapshot import InvoiceSnapshot

FACTURX_FILENAME = "factur-x.xml"


def render_facturx(snapshot: InvoiceSnapshot, cii: bytes | None = None) -> bytes:
    """The Factur-X PDF of a finalized invoice; pass `cii` if it was already rendered (it must match)."""
    if snapshot.is_draft:
        raise ValueError("a draft has no number: finalize it before rendering a Factur-X invoice")
    xml = cii if cii is not None else render_cii(snapshot, Profile.EN16931)
    attachment = AssociatedFile(
        name=FACTURX_FILENAME,
        data=xml,
        mime_type="text/xml",
        description="Factur-X invoice (EN 16931)",
        # The XML carries the same invoice as the PDF: "Alternative" per Factur-X 1.0 for EN 16931.
        relationship="Alternative",
        modified=dt.datetime.combine(snapshot.issue_date, dt.time(0, 0)),
    )
    return build_pdf(snapshot, files=(attachment,), facturx=FacturXInfo(file_name=FACTURX_FILENAME))
