from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass
class InvoiceLine:
    label: str
    amount: Decimal


@dataclass
class Invoice:
    number: str
    due: date
    lines: list[InvoiceLine] = field(default_factory=list)

    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    def days_overdue(self, today: date) -> int:
        return max((today - self.due).days, 0)
