"""Tax rates: named VAT rates with their EN 16931 category, immutable once created."""
