"""Invoices: drafts, finalization, lifecycle, payments."""
