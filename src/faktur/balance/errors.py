"""Errors of customer credit balances, one class per code."""

from __future__ import annotations

from faktur.errors import Conflict, Unprocessable


class InsufficientBalance(Conflict):
    """A debit larger than what the customer has to their credit: a balance never goes negative."""

    code = "insufficient_balance"


class ZeroAmount(Unprocessable):
    """An adjustment of 0 changes nothing and would only clutter the ledger."""

    code = "amount_zero"


class AmountPrecision(Unprocessable):
    """More decimals than the currency's minor unit (EUR 2, JPY 0, KWD 3)."""

    code = "amount_precision"
