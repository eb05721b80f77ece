"""Orders: what a customer bought, invoiced all at once or in parts as it ships."""
