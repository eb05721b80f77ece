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


# fx:ConformanceLevel per profile of the embedded CII (ZUGFeRD 2.1.1+ names XRechnung's level).
CONFORMANCE_LEVELS = {Profile.EN16931: "EN 16931", Profile.XRECHNUNG: "XRECHNUNG"}


def render_facturx(
    snapshot: InvoiceSnapshot, cii: bytes | None = None, profile: Profile = Profile.EN16931
) -> bytes:
    """The Factur-X PDF of a finalized invoice; pass `cii` if it was already rendered (it must match
    `profile`, EN 16931 unless told otherwise; Peppol is UBL only and cannot be embedded)."""
    if snapshot.is_draft:
        raise ValueError("a draft has no number: finalize it before rendering a Factur-X invoice")
    level = CONFORMANCE_LEVELS.get(Profile(profile))
    if level is None:
        raise ValueError(f"profile {profile} has no CII form to embed in a Factur-X PDF")
    xml = cii if cii is not None else render_cii(snapshot, profile)
    attachment = AssociatedFile(
        name=FACTURX_FILENAME,
        data=xml,
        mime_type="text/xml",
        description="Factur-X invoice (EN 16931)",
        # The XML carries the same invoice as the PDF: "Alternative" per Factur-X 1.0 for EN 16931.
        relationship="Alternative",
        modified=dt.datetime.combine(snapshot.issue_date, dt.time(0, 0)),
    )
    return build_pdf(
        snapshot,
        files=(attachment,),
        facturx=FacturXInfo(conformance_level=level, file_name=FACTURX_FILENAME),
    )
