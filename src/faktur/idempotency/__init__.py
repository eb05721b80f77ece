"""Idempotency-Key handling for POST requests (DESIGN rule 5)."""
