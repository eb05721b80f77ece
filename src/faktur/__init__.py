"""faktur: an invoicing service."""
