"""Recurring contracts: customer, billing calendar and price components in terms versions."""
