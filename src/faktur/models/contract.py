"""Recurring contracts and their price components (flat, one-off, usage), in terms versions.

A contract's terms can change: each set of components belongs to a version with the date it takes
effect from, so an invoice for a past period can be computed with the terms that applied then.
Amounts are exact decimals as given (rounding happens on the invoice line).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from faktur.models.base import Base, JsonDocument, TenantOwned, tenant_reference
from faktur.models.types import ExactDecimal, UtcDateTime


class Contract(TenantOwned, Base):
    __tablename__ = "contracts"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    # Exclusive, like every period end: the first day the contract no longer covers.
    end_date: Mapped[date | None] = mapped_column(Date)
    billing_interval: Mapped[str] = mapped_column(String(10), nullable=False)
    billing_cycle_start_day: Mapped[int] = mapped_column(Integer, nullable=False)
    # When flat fees are billed: in_advance or in_arrears (usage is always in arrears).
    billing_timing: Mapped[str] = mapped_column(String(12), nullable=False)
    payment_mode: Mapped[str] = mapped_column(String(12), nullable=False)
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonDocument, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    components: Mapped[list[ContractComponent]] = relationship(
        order_by="(ContractComponent.terms_version, ContractComponent.position)",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    __table_args__ = (
        tenant_reference("customers", "customer_id"),
        Index("ix_contracts_org_created", "organisation_id", "created_at", "id"),
        Index("ix_contracts_org_customer", "organisation_id", "customer_id"),
        Index("ix_contracts_org_start", "organisation_id", "start_date"),
    )


class ContractComponent(TenantOwned, Base):
    """One price component of one terms version of a contract."""

    __tablename__ = "contract_components"

    contract_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    terms_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The day this terms version starts to apply (the contract start for version 1).
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # flat, one_off, usage
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # flat and one_off
    metric_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # calc.charge_models to_dict(): numbers as strings.
    charge_model: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Inline tax {"category", "percent", "exemption_reason", ...} when no tax_rate_id is given.
    tax: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)

    __table_args__ = (
        tenant_reference("contracts", "contract_id", ondelete="CASCADE"),
        tenant_reference("billable_metrics", "metric_id"),
        tenant_reference("tax_rates", "tax_rate_id"),
        Index("ix_contract_components_org_contract", "organisation_id", "contract_id", "terms_version"),
    )
