"""Outlines: Python through ast, other languages through line patterns."""

from __future__ import annotations

from context_support import TYPESCRIPT_REPO

from agent.context.outline import outline


def names(entries: tuple[object, ...], kind: str) -> list[str]:
    return [entry.name for entry in entries if entry.kind == kind]  # type: ignore[attr-defined]


PYTHON = '''
"""Module."""
from fastapi import APIRouter

__all__ = ["InvoiceService", "post_invoice"]
router = APIRouter()
API_TOKEN = "value stays out of the outline"


class InvoiceService(Base):
    def create(self, customer_id: int) -> dict:
        return {}

    async def void(self) -> None: ...


@router.post("/invoices")
def post_invoice(customer_id: int) -> dict:
    return {}


@app.route("/legacy", methods=["GET", "POST"])
def legacy(): ...
'''


def test_python_outline_has_classes_methods_routes_exports_and_constant_names() -> None:
    entries = outline("shop/invoices.py", PYTHON)
    assert names(entries, "class") == ["InvoiceService"]
    assert names(entries, "method") == ["InvoiceService.create", "InvoiceService.void"]
    assert names(entries, "function") == ["post_invoice", "legacy"]
    assert names(entries, "export") == ["InvoiceService", "post_invoice"]
    assert names(entries, "constant") == ["API_TOKEN"]
    routes = {entry.name: entry.detail for entry in entries if entry.kind == "route"}
    assert routes == {"/invoices": "POST -> post_invoice", "/legacy": "GET,POST -> legacy"}
    assert not any("value stays out" in entry.detail for entry in entries)
    create = next(entry for entry in entries if entry.name == "InvoiceService.create")
    assert (create.line, create.detail) == (11, "(self, customer_id: int) -> dict")


def test_python_that_does_not_parse_falls_back_to_line_patterns() -> None:
    entries = outline("legacy.py", "class Old:\n    def run(self):\n        print 'py2'\n")
    assert names(entries, "class") == ["Old"]
    assert names(entries, "function") == ["run"]


def test_typescript_outline() -> None:
    entries = outline("src/orders/OrderService.ts", TYPESCRIPT_REPO["src/orders/OrderService.ts"])
    assert names(entries, "interface") == ["Order"]
    assert names(entries, "type") == ["OrderId"]
    assert names(entries, "class") == ["OrderService"]
    assert names(entries, "method") == ["cancelOrder"]
    server = outline("src/server.ts", TYPESCRIPT_REPO["src/server.ts"])
    assert [(e.name, e.detail) for e in server if e.kind == "route"] == [("/api/orders/:id", "GET")]
    assert names(server, "function") == ["startServer"]


def test_go_outline_names_methods_by_receiver() -> None:
    source = (
        "package api\n\ntype Server struct{}\n\ntype Store interface{ Get() }\n\n"
        "func (s *Server) Routes() {\n\tr.HandleFunc(\"/health\", s.health)\n}\n\nfunc New() *Server { return nil }\n"
    )
    entries = outline("api/server.go", source)
    assert names(entries, "struct") == ["Server"]
    assert names(entries, "interface") == ["Store"]
    assert names(entries, "method") == ["Server.Routes"]
    assert names(entries, "function") == ["New"]
    assert names(entries, "route") == ["/health"]


def test_files_without_a_known_language_have_no_outline() -> None:
    assert outline("notes.md", "# Title\n\ndef not_code():\n") == ()
