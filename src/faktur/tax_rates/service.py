"""Operations on tax rates (services flush, never commit)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from faktur.invoices.calculation import tax_spec_violations
from faktur.models import TaxRate
from faktur.paging import Cursor
from faktur.tax_rates import repository
from faktur.tax_rates.errors import TaxRateBreaksTaxRules
from faktur.tax_rates.schemas import TaxRateCreate


def create_tax_rate(
    session: Session, organisation_id: uuid.UUID, data: TaxRateCreate, now: datetime
) -> TaxRate:
    violations = tax_spec_violations(
        data.category, data.percent, data.exemption_reason, data.exemption_reason_code
    )
    if violations:
        raise TaxRateBreaksTaxRules(violations)
    rate = TaxRate(
        id=uuid.uuid4(),
        organisation_id=organisation_id,
        created_at=now,
        name=data.name,
        percent=data.percent,
        category=data.category.value,
        inclusive=data.inclusive,
        exemption_reason=data.exemption_reason,
        exemption_reason_code=data.exemption_reason_code,
        active=True,
    )
    repository.add(session, rate)
    return rate


def list_tax_rates(
    session: Session, organisation_id: uuid.UUID, limit: int, cursor: Cursor | None
) -> tuple[list[TaxRate], bool]:
    rows = repository.list_page(session, organisation_id, limit, cursor)
    return rows[:limit], len(rows) > limit
