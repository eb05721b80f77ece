"""Request and response bodies of /v1/metrics and /v1/events."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from faktur.calc.charge_models import AggregationKind
from faktur.fields import Text

# An event's properties: flat, small, and exact. Numbers become decimal strings when stored.
MAX_PROPERTIES = 50
MAX_BATCH = 1000
_MAX_NUMBER = Decimal("1e15")

Code = Annotated[str, Text(100, 1)]


def _storable(value: str) -> str:
    # JSON escapes can spell lone surrogates ("\ud800"): valid for Python, not for UTF-8 or
    # for PostgreSQL, so they are refused here rather than failing the INSERT of the batch.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogate escapes)") from None
    return value


EventCode = Annotated[Code, AfterValidator(_storable)]


class MetricCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code = Field(pattern=r"^[A-Za-z0-9_.:-]+$", description="What events name, e.g. api_calls")
    name: Annotated[str, Text(200, 1)]
    aggregation: AggregationKind = Field(description="sum, count, max or unique_count")
    property: Annotated[str, Text(100, 1)] | None = Field(
        None, description="Property summed, maxed or counted uniquely"
    )
    description: Annotated[str, Text(1000)] | None = None

    @model_validator(mode="after")
    def _property_matches_aggregation(self) -> MetricCreate:
        if self.aggregation is AggregationKind.COUNT:
            if self.property is not None:
                raise ValueError("a count metric takes no property")
        elif self.property is None:
            raise ValueError(f"a {self.aggregation.value} metric needs the property it aggregates")
        return self


class MetricOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    aggregation: AggregationKind
    property: str | None
    description: str | None
    created_at: datetime

    @classmethod
    def of(cls, metric: Any) -> MetricOut:
        return cls.model_validate(metric, from_attributes=True)


def _property_value(key: str, value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError(f"property {key!r} is a binary float; send a JSON number or a string")
    if isinstance(value, (bool, type(None))):
        return value
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
        if not number.is_finite() or abs(number) >= _MAX_NUMBER:
            raise ValueError(f"property {key!r} must be a finite number below 1e15 in magnitude")
        # Stored as a decimal string: JSON columns must never see a float, and the string keeps
        # the value exact on both backends.
        return str(value)
    if isinstance(value, str):
        if len(value) > 500 or "\x00" in value:
            raise ValueError(f"property {key!r} must be a string of at most 500 characters without NUL")
        return _storable(value)
    raise ValueError(f"property {key!r} must be a string, number, boolean or null (no objects or lists)")


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_id: Annotated[Annotated[str, Text(200, 1)], AfterValidator(_storable)] = Field(
        description="Your unique id of the event; repeats are ignored"
    )
    metric_code: EventCode
    contract_id: uuid.UUID | None = Field(None, description="Give the contract, or the customer")
    customer_id: uuid.UUID | None = Field(None, description="Resolved to the customer's contract")
    timestamp: AwareDatetime = Field(description="When the usage happened (ISO 8601 with a zone)")
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("properties")
    @classmethod
    def _exact_properties(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > MAX_PROPERTIES:
            raise ValueError(f"at most {MAX_PROPERTIES} properties")
        for key in value:
            if not key or len(key) > 100 or "\x00" in key:
                raise ValueError("property names must have 1 to 100 characters, without NUL")
            _storable(key)
        return {key: _property_value(key, item) for key, item in value.items()}

    @field_validator("timestamp")
    @classmethod
    def _reasonable_year(cls, value: datetime) -> datetime:
        # Far-off years would overflow date arithmetic on the billing calendar.
        if not 1970 <= value.year <= 9000:
            raise ValueError("timestamp must lie between the years 1970 and 9000")
        return value

    @model_validator(mode="after")
    def _one_owner(self) -> EventIn:
        if (self.contract_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of contract_id or customer_id")
        return self


class EventBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Items are validated one by one in the service, so one bad event does not refuse the batch.
    events: list[Any] = Field(min_length=1, max_length=MAX_BATCH)


class EventOut(BaseModel):
    id: uuid.UUID
    transaction_id: str
    metric_code: str
    contract_id: uuid.UUID
    timestamp: datetime
    properties: dict[str, Any]
    invoice_id: uuid.UUID | None = Field(description="The invoice that billed this event, if any")
    duplicate: bool = Field(False, description="True when this transaction id was already recorded")


class EventError(BaseModel):
    index: int
    transaction_id: str | None
    code: str
    field: str | None
    reason: str


class EventRef(BaseModel):
    index: int
    transaction_id: str


class EventBatchOut(BaseModel):
    received: int
    stored: int = Field(description="New events recorded by this request")
    duplicates: list[EventRef] = Field(description="Already recorded (acknowledged, counted once)")
    errors: list[EventError] = Field(description="Refused events with their index and reason")
