"""Gapless invoice numbers per organisation and series (DESIGN rule 3)."""
