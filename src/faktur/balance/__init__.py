"""Customer credit balances: a ledger per customer and currency, applied to invoices at finalization."""
