"""Customers: the buyers invoices are addressed to."""
