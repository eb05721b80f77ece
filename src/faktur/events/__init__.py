"""Events: what changed, written as outbox rows in the transaction of the change."""
