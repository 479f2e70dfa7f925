from decimal import Decimal

from app.models import Invoice, LineItem


def test_total() -> None:
    invoice = Invoice("A-1", 7, "EUR", [LineItem("Pens", 2, Decimal("1.50"))])
    assert invoice.total() == Decimal("3.00")
