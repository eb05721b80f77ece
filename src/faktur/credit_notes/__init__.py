"""Credit notes: documents that correct an issued invoice (EN 16931 type 381)."""
