from flask import Blueprint, abort, g, render_template

from app.store import find_invoice

invoices = Blueprint("invoices", __name__, url_prefix="/invoices")


@invoices.get("/<number>")
def show(number: str) -> str:
    invoice = find_invoice(number)
    if invoice is None or invoice.customer_id != g.customer_id:
        abort(404)
    return render_template("invoice.html", invoice=invoice)
