"""Request and response bodies of /v1/customers/{id}/balance and /balance-transactions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from faktur.fields import Amount, CurrencyCode, Text


class BalanceTransactionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount = Field(
        description='Decimal string in the currency\'s minor precision, e.g. "30.00": positive credits '
        "the customer, negative uses up credit (never below zero: 409 insufficient_balance)"
    )
    currency: CurrencyCode | None = Field(
        None, description="ISO 4217 code; defaults to the customer's currency, else the organisation's"
    )
    description: Annotated[str, Text(500, 1)] = Field(
        description="Why the balance changes, shown in the ledger"
    )


class CurrencyBalanceOut(BaseModel):
    currency: str = Field(description="ISO 4217 code")
    amount: str = Field(description="Available credit, never negative; applied to the next invoices")
    updated_at: datetime = Field(description="When the balance last changed")


class CustomerBalanceOut(BaseModel):
    customer_id: uuid.UUID = Field(description="The customer")
    balances: list[CurrencyBalanceOut] = Field(
        description="One entry per currency the customer ever had a balance in; empty when none"
    )


class BalanceTransactionOut(BaseModel):
    id: uuid.UUID = Field(description="The ledger transaction")
    customer_id: uuid.UUID = Field(description="The customer")
    currency: str = Field(description="ISO 4217 code")
    kind: str = Field(
        description="manual_adjustment (POST balance-transactions), applied_to_invoice (used up by "
        "an invoice at finalization) or credit_note (a credit note's credit_amount)"
    )
    amount: str = Field(description="Signed: positive credited the customer, negative used credit")
    balance_after: str = Field(description="The customer's balance in this currency after it")
    description: str | None = Field(description="Why the balance changed")
    invoice_id: uuid.UUID | None = Field(
        description="The invoice the credit was applied to, or the credited invoice of a credit note"
    )
    credit_note_id: uuid.UUID | None = Field(None, description="The credit note that credited it, if any")
    created_at: datetime = Field(description="When it was recorded")
