"""Webhooks: endpoints that receive the organisation's events, signed and retried until delivered."""
