"""Pending invoice items: charges that wait until they are gathered into invoices."""
