from app.models import Invoice

INVOICES: dict[str, Invoice] = {}


def find_invoice(number: str) -> Invoice | None:
    return INVOICES.get(number)
