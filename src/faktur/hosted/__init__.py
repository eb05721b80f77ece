"""The hosted invoice page: a token link to a server-rendered page of an issued invoice."""
