"""Period invoices of contracts and billing runs that invoice every due contract exactly once."""
