"""The errors of tax rates."""

from __future__ import annotations

import uuid
from typing import Any

from faktur.errors import NotFound, TaxRulesBroken


class TaxRateNotFound(NotFound):
    """No tax rate with this id in the caller's organisation."""

    code = "tax_rate_not_found"

    def __init__(self, rate_id: uuid.UUID, field: str) -> None:
        super().__init__(
            f"No tax rate {rate_id} in this organisation.",
            details=[{"field": field, "reason": "unknown tax rate"}],
        )


class TaxRateBreaksTaxRules(TaxRulesBroken):
    """The tax rate's category, percentage and exemption reason break EN 16931 rules."""

    def __init__(self, violations: list[dict[str, Any]]) -> None:
        super().__init__(
            "The tax rate breaks EN 16931 rules: " + "; ".join(v["reason"] for v in violations),
            details=violations,
        )
