"""The official EN 16931 rule sets (../shared/einvoice-validator) as the authority on faktur's e-invoices.

The validator lives beside the repository, never inside it: its directory is
`<repository>/../shared/einvoice-validator`, or `FAKTUR_EINVOICE_VALIDATOR` when set. Where it is absent
(or `lxml`/`saxonche` cannot load it) the tests that need it are skipped with the reason. Its rule sets
compile once per test process (the `official_validator` session fixture in conftest.py); a document
then takes milliseconds.

Layers, chosen by the validator from the document (its README): `xsd` and `cen` for every document,
`xrechnung` when BT-24 names XRechnung, `peppol` for a UBL document with the Peppol BIS BT-24.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
ENV_VARIABLE = "FAKTUR_EINVOICE_VALIDATOR"
# The layers each profile must be checked with; the validator picks them, the tests insist on them.
EXPECTED_LAYERS = {
    ("ubl", "en16931"): ["xsd", "cen"],
    ("cii", "en16931"): ["xsd", "cen"],
    ("ubl", "peppol"): ["xsd", "cen", "peppol"],
    ("ubl", "xrechnung"): ["xsd", "cen", "xrechnung"],
    ("cii", "xrechnung"): ["xsd", "cen", "xrechnung"],
}


def validator_directory() -> Path:
    configured = os.environ.get(ENV_VARIABLE)
    return Path(configured) if configured else REPOSITORY.parent / "shared" / "einvoice-validator"


def load_module() -> tuple[ModuleType | None, str]:
    """The validator's `validate` module, or None and the reason it cannot be used."""
    directory = validator_directory()
    script = directory / "validate.py"
    if not script.is_file():
        return None, f"the official e-invoice validator is not at {directory} (set {ENV_VARIABLE})"
    spec = importlib.util.spec_from_file_location("faktur_official_einvoice_validator", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        return None, f"the official e-invoice validator at {directory} cannot load: {exc}"
    return module, ""


@dataclass(frozen=True)
class Finding:
    layer: str
    rule: str
    flag: str
    text: str
    location: str | None

    def __str__(self) -> str:
        return f"{self.layer} {self.flag} {self.rule} at {self.location}: {self.text[:200]}"


@dataclass(frozen=True)
class Report:
    syntax: str
    layers: list[str]
    findings: list[Finding]

    @property
    def fatal(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.flag == "fatal"]

    @property
    def fatal_rules(self) -> list[str]:
        return sorted({finding.rule for finding in self.fatal})


class OfficialValidator:
    """One compiled `Validator` of ../shared/einvoice-validator; validates bytes."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self._validator: Any = module.Validator()
        self._directory = tempfile.TemporaryDirectory(prefix="faktur-einvoice-")

    def validate(self, xml: bytes) -> Report:
        # validate_file reads a path (Saxon resolves the document from it): one scratch file per call.
        path = Path(self._directory.name) / "document.xml"
        path.write_bytes(xml)
        result = self._module.validate_file(self._validator, str(path))
        findings = [
            Finding(layer, item["id"], item["flag"], item["text"], item.get("location"))
            for layer, items in result["findings"].items()
            for item in items
        ]
        return Report(result["syntax"], list(result["layers"]), findings)

    def assert_valid(self, xml: bytes, syntax: str, profile: str, what: str = "document") -> Report:
        """Zero fatal findings, checked with every layer `profile` needs."""
        report = self.validate(xml)
        assert report.syntax == syntax, f"{what}: expected {syntax}, the validator saw {report.syntax}"
        assert report.layers == EXPECTED_LAYERS[(syntax, profile)], (
            f"{what}: validated with {report.layers}, not the layers of {syntax}/{profile}"
        )
        assert report.fatal == [], f"{what} ({syntax}/{profile}):\n" + "\n".join(map(str, report.fatal))
        return report
