"""The official EN 16931 / XRechnung / Peppol rule sets of ../shared/einvoice-validator, for tests.

Loaded once per test process (compiling a rule set takes seconds, validating a document milliseconds).
Tests that need it skip, saying why, when the validator is not next to the repository.
"""

from __future__ import annotations

import importlib.util
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

VALIDATOR_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "einvoice-validator"


@cache
def _loaded() -> tuple[ModuleType, Any]:
    spec = importlib.util.spec_from_file_location("einvoice_validate", VALIDATOR_DIR / "validate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.Validator()


def official_findings(xml: bytes) -> dict[str, list[dict[str, Any]]]:
    """Every finding per layer (xsd, cen, xrechnung, peppol as the document's BT-24 selects)."""
    if not (VALIDATOR_DIR / "validate.py").is_file():
        pytest.skip(f"the official validator is not at {VALIDATOR_DIR}")
    module, validator = _loaded()
    with tempfile.NamedTemporaryFile(suffix=".xml") as handle:
        handle.write(xml)
        handle.flush()
        result = module.validate_file(validator, handle.name)
    findings: dict[str, list[dict[str, Any]]] = result["findings"]
    return findings


def fatal_findings(xml: bytes) -> list[str]:
    """The fatal findings of `xml` as "layer rule: text" (an empty list: the document passes)."""
    return [
        f"{layer} {finding['id']}: {finding['text']}"
        for layer, findings in official_findings(xml).items()
        for finding in findings
        if finding["flag"] == "fatal"
    ]
