"""The seller: organisation details every invoice carries, API keys."""
