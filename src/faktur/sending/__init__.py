"""E-mailing invoices: sends recorded in the request's transaction, delivered over SMTP afterwards."""
