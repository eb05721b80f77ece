"""ORM tables, one module per aggregate. Importing this package registers them all."""

from faktur.models.balance import CustomerBalance, CustomerBalanceTransaction
from faktur.models.base import Base
from faktur.models.billing import BillingRun, BillingRunFailure
from faktur.models.billing_chunk import BillingRunChunk
from faktur.models.contract import Contract, ContractComponent
from faktur.models.credit_note import CreditNote, CreditNoteLine, CreditNoteTaxGroup
from faktur.models.customer import Customer, TaxRate
from faktur.models.dialect import DialectInvoice
from faktur.models.document import CreditNoteDocument, InvoiceDocument
from faktur.models.event import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from faktur.models.idempotency import IdempotencyKey
from faktur.models.invoice import Invoice, InvoiceEvent, InvoiceLine, InvoiceTaxGroup, Payment
from faktur.models.invoice_item import InvoiceItem
from faktur.models.order import Order, OrderLine
from faktur.models.organisation import ApiKey, NumberSeries, Organisation
from faktur.models.send import InvoiceSend
from faktur.models.usage import BillableMetric, UsageCoverage, UsageEvent

__all__ = [
    "ApiKey",
    "Base",
    "BillableMetric",
    "BillingRun",
    "BillingRunChunk",
    "BillingRunFailure",
    "Contract",
    "ContractComponent",
    "CreditNote",
    "CreditNoteDocument",
    "CreditNoteLine",
    "CreditNoteTaxGroup",
    "Customer",
    "CustomerBalance",
    "CustomerBalanceTransaction",
    "DialectInvoice",
    "Event",
    "IdempotencyKey",
    "Invoice",
    "InvoiceDocument",
    "InvoiceEvent",
    "InvoiceItem",
    "InvoiceLine",
    "InvoiceSend",
    "InvoiceTaxGroup",
    "NumberSeries",
    "Order",
    "OrderLine",
    "Organisation",
    "Payment",
    "TaxRate",
    "UsageCoverage",
    "UsageEvent",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
