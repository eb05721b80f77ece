"""PDF/A-3b plumbing for reportlab documents: sRGB output intent, XMP metadata, associated files.

reportlab writes embedded TrueType subsets but knows nothing of PDF/A, so the catalog entries PDF/A-3
and Factur-X need (OutputIntents, Metadata, AF, EmbeddedFiles) are added here with reportlab's own PDF
objects, in one pass. Everything is derived from the invoice (its date, its XML), never from the clock,
so the same invoice gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFCatalog,
    PDFDictionary,
    PDFName,
    PDFStream,
    PDFStreamFilterZCompress,
    PDFString,
    PDFText,
)
from reportlab.pdfgen.canvas import Canvas

_ICC_PROFILE = "sRGB2014.icc"
SRGB_CONDITION = "sRGB IEC61966-2.1"
FACTURX_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"


@dataclass(frozen=True)
class PdfMetadata:
    """Document information, written identically into the Info dictionary and the XMP (PDF/A demands it)."""

    title: str
    author: str
    subject: str
    keywords: str
    creator: str
    producer: str
    created: dt.datetime
    lang: str


@dataclass(frozen=True)
class AssociatedFile:
    """A file embedded as a PDF/A-3 associated file (Factur-X: factur-x.xml, relationship Alternative)."""

    name: str
    data: bytes
    mime_type: str
    description: str
    relationship: str
    modified: dt.datetime


@dataclass(frozen=True)
class FacturXInfo:
    """The fx: properties Factur-X readers look for in the XMP."""

    conformance_level: str = "EN 16931"
    document_type: str = "INVOICE"
    file_name: str = "factur-x.xml"
    version: str = "1.0"


@cache
def srgb_profile() -> bytes:
    return resources.files("faktur.documents.pdf").joinpath(_ICC_PROFILE).read_bytes()


def _pdf_date(moment: dt.datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


def _xmp_date(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


_FACTURX_SCHEMA = """
   <rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
     xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
    <pdfaExtension:schemas>
     <rdf:Bag>
      <rdf:li rdf:parseType="Resource">
       <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
       <pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI>
       <pdfaSchema:prefix>fx</pdfaSchema:prefix>
       <pdfaSchema:property>
        <rdf:Seq>
         {properties}
        </rdf:Seq>
       </pdfaSchema:property>
      </rdf:li>
     </rdf:Bag>
    </pdfaExtension:schemas>
   </rdf:Description>
   <rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#">
    <fx:DocumentType>{document_type}</fx:DocumentType>
    <fx:DocumentFileName>{file_name}</fx:DocumentFileName>
    <fx:Version>{version}</fx:Version>
    <fx:ConformanceLevel>{conformance_level}</fx:ConformanceLevel>
   </rdf:Description>"""

_FACTURX_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)


def xmp_packet(metadata: PdfMetadata, facturx: FacturXInfo | None = None) -> bytes:
    """The XMP packet: PDF/A-3B identification, Dublin Core, and (optionally) the Factur-X schema."""
    date = _xmp_date(metadata.created)
    facturx_part = ""
    if facturx is not None:
        properties = "\n         ".join(
            '<rdf:li rdf:parseType="Resource"><pdfaProperty:name>'
            f"{name}</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType>"
            "<pdfaProperty:category>external</pdfaProperty:category>"
            f"<pdfaProperty:description>{escape(text)}</pdfaProperty:description></rdf:li>"
            for name, text in _FACTURX_PROPERTIES
        )
        facturx_part = _FACTURX_SCHEMA.format(
            properties=properties,
            document_type=escape(facturx.document_type),
            file_name=escape(facturx.file_name),
            version=escape(facturx.version),
            conformance_level=escape(facturx.conformance_level),
        )
    lang = escape(metadata.lang)
    subject = escape(metadata.subject)
    body = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
   <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
    <pdfaid:part>3</pdfaid:part>
    <pdfaid:conformance>B</pdfaid:conformance>
   </rdf:Description>
   <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:format>application/pdf</dc:format>
    <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(metadata.title)}</rdf:li></rdf:Alt></dc:title>
    <dc:creator><rdf:Seq><rdf:li>{escape(metadata.author)}</rdf:li></rdf:Seq></dc:creator>
    <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{subject}</rdf:li></rdf:Alt></dc:description>
    <dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>
   </rdf:Description>
   <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
    <pdf:Producer>{escape(metadata.producer)}</pdf:Producer>
    <pdf:Keywords>{escape(metadata.keywords)}</pdf:Keywords>
    <pdf:Trapped>False</pdf:Trapped>
   </rdf:Description>
   <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
    <xmp:CreatorTool>{escape(metadata.creator)}</xmp:CreatorTool>
    <xmp:CreateDate>{date}</xmp:CreateDate>
    <xmp:ModifyDate>{date}</xmp:ModifyDate>
    <xmp:MetadataDate>{date}</xmp:MetadataDate>
   </rdf:Description>{facturx_part}
  </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return body.encode("utf-8")


class _Catalog(PDFCatalog):
    """reportlab's catalog only writes the keys it knows; PDF/A-3 needs two more."""

    __NoDefault__ = [*PDFCatalog.__NoDefault__, "OutputIntents", "AF"]

    # Entries make_pdfa sets: reportlab writes a catalog's attributes as its keys.
    Lang: PDFString
    OutputIntents: PDFArray
    Metadata: PDFStream
    AF: PDFArray
    Names: PDFDictionary


def _document_of(canvas: Canvas) -> Any:
    """The PDF document a canvas writes: reportlab keeps it private, its stubs leave out the canvas's
    reference and the document's internals used here (catalog, time stamp), so it stays untyped."""
    return canvas._doc  # type: ignore[attr-defined]  # private, undeclared in the stubs


def _raw_stream(dictionary: dict[str, object], content: bytes, *, compress: bool) -> PDFStream:
    # The XMP stays uncompressed so archive tools can read it without a PDF parser (PDF/A advice).
    filters = [PDFStreamFilterZCompress()] if compress else []
    return PDFStream(PDFDictionary(dictionary), content, filters=filters)


def _info_dates(canvas: Canvas, moment: dt.datetime) -> None:
    """Point reportlab's Info dates at the invoice's own moment instead of the clock or 2000-01-01."""
    stamp = _document_of(canvas)._timeStamp
    stamp.t = moment.timestamp()
    stamp.YMDhms = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    stamp.dhh = stamp.dmm = 0


def make_pdfa(
    canvas: Canvas,
    metadata: PdfMetadata,
    files: tuple[AssociatedFile, ...] = (),
    facturx: FacturXInfo | None = None,
) -> None:
    """Add output intent, XMP and associated files to `canvas`'s document; call before `save()`."""
    document = _document_of(canvas)
    old = document.Catalog
    catalog = _Catalog()
    catalog.__dict__.update(old.__dict__)
    document.Catalog = document._catalog = catalog

    canvas.setTitle(metadata.title)
    canvas.setAuthor(metadata.author)
    canvas.setSubject(metadata.subject)
    canvas.setKeywords(metadata.keywords)
    canvas.setCreator(metadata.creator)
    canvas.setProducer(metadata.producer)
    _info_dates(canvas, metadata.created)
    catalog.Lang = PDFString(metadata.lang)

    profile = _raw_stream({"N": 3}, srgb_profile(), compress=True)
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString(SRGB_CONDITION),
            "Info": PDFString(SRGB_CONDITION),
            "DestOutputProfile": document.Reference(profile),
        }
    )
    catalog.OutputIntents = PDFArray([intent])
    xmp = _raw_stream(
        {"Type": PDFName("Metadata"), "Subtype": PDFName("XML")},
        xmp_packet(metadata, facturx),
        compress=False,
    )
    catalog.Metadata = xmp

    if files:
        specs = []
        names: list[object] = []
        for file in files:
            embedded = _raw_stream(
                {
                    "Type": PDFName("EmbeddedFile"),
                    # reportlab's PDFName does not escape "/", so the name "text#2Fxml" is written as is.
                    "Subtype": "/" + file.mime_type.replace("/", "#2F"),
                    "Params": PDFDictionary(
                        {
                            "ModDate": PDFString(_pdf_date(file.modified)),
                            "Size": len(file.data),
                            "CheckSum": PDFText(hashlib.md5(file.data).digest()),
                        }
                    ),
                },
                file.data,
                compress=True,
            )
            embedded_ref = document.Reference(embedded)
            spec = PDFDictionary(
                {
                    "Type": PDFName("Filespec"),
                    "F": PDFString(file.name),
                    "UF": PDFString(file.name),
                    "Desc": PDFString(file.description),
                    "AFRelationship": PDFName(file.relationship),
                    "EF": PDFDictionary({"F": embedded_ref, "UF": embedded_ref}),
                }
            )
            spec_ref = document.Reference(spec)
            specs.append(spec_ref)
            names.extend([PDFString(file.name), spec_ref])
        catalog.AF = PDFArray(specs)
        catalog.Names = PDFDictionary({"EmbeddedFiles": PDFDictionary({"Names": PDFArray(names)})})
        catalog.PageMode = PDFName("UseAttachments")
