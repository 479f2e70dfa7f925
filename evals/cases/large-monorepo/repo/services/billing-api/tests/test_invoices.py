from datetime import date
from decimal import Decimal

from billing_api.invoices import Invoice, InvoiceLine


def test_days_overdue() -> None:
    invoice = Invoice("I-1", date(2026, 1, 1), [InvoiceLine("Plan", Decimal("10"))])
    assert invoice.days_overdue(date(2026, 1, 31)) == 30
