"""A fixed clock for the invoice item tests."""

from datetime import UTC, datetime

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
