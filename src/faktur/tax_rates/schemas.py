"""Request and response bodies of /v1/tax-rates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from faktur.calc import TaxCategory
from faktur.fields import Percent, Text
from faktur.models import TaxRate


class TaxRateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(100, 1)]
    percent: Percent = Field(description='e.g. "19" or "7.7"; 0 for categories other than S, L, M')
    category: TaxCategory = Field(TaxCategory.S, description="EN 16931 VAT category code (UNCL5305)")
    inclusive: bool = Field(False, description="Prices taxed at this rate include the tax")
    exemption_reason: Annotated[str, Text(300)] | None = Field(
        None,
        description="Required for E; AE, K, G and O without one state their VATEX default "
        "(VATEX-EU-AE, -IC, -G, -O with its standard text)",
    )
    exemption_reason_code: Annotated[str, Text(30)] | None = Field(
        None, description="VATEX code, e.g. VATEX-EU-AE"
    )


class TaxRateOut(BaseModel):
    id: uuid.UUID
    name: str
    percent: str
    category: TaxCategory
    inclusive: bool
    exemption_reason: str | None
    exemption_reason_code: str | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, rate: TaxRate) -> TaxRateOut:
        values = {name: getattr(rate, name) for name in cls.model_fields if name != "percent"}
        return cls(**values, percent=str(rate.percent))


__all__ = ["TaxRateCreate", "TaxRateOut"]
