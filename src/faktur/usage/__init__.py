"""Billable metrics and usage events: what contracts charge for, metered through the API."""
