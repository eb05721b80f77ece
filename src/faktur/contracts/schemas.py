"""Request and response bodies of /v1/contracts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from faktur.calc.charge_models import InvalidChargeModel, charge_model_from_dict
from faktur.calc.periods import BillingInterval
from faktur.fields import CurrencyCode, Days, Metadata, NonNegativeUnitPrice, Text
from faktur.invoices.schemas import TaxIn

_PRICE_LIMIT = Decimal("1000000000000")
_MAX_DECIMALS = 6


class BillingTiming(StrEnum):
    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class PaymentMode(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class ComponentKind(StrEnum):
    FLAT = "flat"
    ONE_OFF = "one_off"
    USAGE = "usage"


class _ComponentBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(200, 1)]
    tax_rate_id: uuid.UUID | None = None
    tax: TaxIn | None = Field(None, description="Inline tax, instead of tax_rate_id")

    @model_validator(mode="after")
    def _one_tax(self) -> _ComponentBase:
        if (self.tax_rate_id is None) == (self.tax is None):
            raise ValueError("give exactly one of tax_rate_id or tax")
        return self


class FlatComponentIn(_ComponentBase):
    """A fee per period, prorated by days for partial first and last periods."""

    kind: Literal["flat"]
    amount: NonNegativeUnitPrice


class OneOffComponentIn(_ComponentBase):
    """A fee charged once, on the contract's first invoice."""

    kind: Literal["one_off"]
    amount: NonNegativeUnitPrice


def _check_price(value: Any, where: str) -> None:
    if value is None:
        return
    number = Decimal(str(value))
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > _MAX_DECIMALS:
        raise ValueError(f"{where} has more than {_MAX_DECIMALS} decimals")
    if abs(number) > _PRICE_LIMIT:
        raise ValueError(f"{where} is above 1,000,000,000,000")


class UsageComponentIn(_ComponentBase):
    """A charge on a billable metric's usage in the period, billed in arrears."""

    kind: Literal["usage"]
    metric_code: Annotated[str, Text(100, 1)]
    charge_model: dict[str, Any] = Field(
        description='per_unit, graduated, volume or package, e.g. {"model": "per_unit", "unit_price": "0.01"}'
    )

    @field_validator("charge_model")
    @classmethod
    def _valid_model(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            model = charge_model_from_dict(value)
        except (InvalidChargeModel, TypeError, ValueError) as exc:
            raise ValueError(str(getattr(exc, "message", exc))) from None
        stored = model.to_dict()
        # Prices end up as invoice unit prices, which take up to 6 decimals.
        for key in ("unit_price", "package_price", "minimum", "free_units"):
            _check_price(stored.get(key), key)
        for position, tier in enumerate(stored.get("tiers", [])):
            for key in ("up_to", "unit_price", "flat_fee"):
                _check_price(tier.get(key), f"tiers[{position}].{key}")
        return stored


ComponentIn = Annotated[FlatComponentIn | OneOffComponentIn | UsageComponentIn, Field(discriminator="kind")]


class ContractCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID
    name: Annotated[str, Text(200)] | None = None
    currency: CurrencyCode | None = Field(
        None, description="Defaults to the customer's, then the organisation's"
    )
    start_date: date
    end_date: date | None = Field(None, description="Exclusive: the first day no longer covered")
    billing_interval: BillingInterval = BillingInterval.MONTH
    billing_cycle_start_day: int | None = Field(
        None,
        ge=1,
        le=31,
        strict=True,
        description="Anchor day; 29-31 clamp to short months. Default: start day",
    )
    billing_timing: BillingTiming = Field(
        BillingTiming.IN_ARREARS, description="When flat fees are billed; usage is always in arrears"
    )
    payment_mode: PaymentMode = PaymentMode.MANUAL
    payment_terms_days: Days | None = None
    metadata: Metadata | None = None
    components: list[ComponentIn] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _dates(self) -> ContractCreate:
        _check_year(self.start_date, "start_date")
        if self.end_date is not None:
            _check_year(self.end_date, "end_date")
            if self.end_date <= self.start_date:
                raise ValueError("end_date must be after start_date (the end is exclusive)")
        return self


def _check_year(day: date, name: str) -> None:
    # The billing calendar works on any date, but years far off are typos, not contracts.
    if not 1970 <= day.year <= 9000:
        raise ValueError(f"{name} must lie between the years 1970 and 9000")


class ContractUpdate(BaseModel):
    """What may change on a running contract. New components start a new terms version."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(200)] | None = None
    end_date: date | None = None
    payment_mode: PaymentMode | None = None
    payment_terms_days: Days | None = None
    metadata: Metadata | None = None
    components: list[ComponentIn] | None = Field(None, min_length=1, max_length=50)
    terms_effective_from: date | None = Field(
        None, description="First day the new components apply; required with components"
    )

    @model_validator(mode="after")
    def _terms(self) -> ContractUpdate:
        if (self.components is None) != (self.terms_effective_from is None):
            raise ValueError("give components and terms_effective_from together")
        if self.end_date is not None:
            _check_year(self.end_date, "end_date")
        if self.terms_effective_from is not None:
            _check_year(self.terms_effective_from, "terms_effective_from")
        return self


class ComponentOut(BaseModel):
    id: uuid.UUID
    kind: ComponentKind
    name: str
    amount: str | None
    metric_id: uuid.UUID | None
    metric_code: str | None
    charge_model: dict[str, Any] | None
    tax_rate_id: uuid.UUID | None
    tax: dict[str, Any] | None


class TermsOut(BaseModel):
    version: int
    effective_from: date
    components: list[ComponentOut]


class ContractOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    name: str | None
    currency: str
    start_date: date
    end_date: date | None
    billing_interval: BillingInterval
    billing_cycle_start_day: int
    billing_timing: BillingTiming
    payment_mode: PaymentMode
    payment_terms_days: int | None
    metadata: dict[str, Any]
    components: list[ComponentOut] = Field(description="The latest terms version's components")
    terms: list[TermsOut] = Field(description="Every terms version, oldest first")
    created_at: datetime
    updated_at: datetime
