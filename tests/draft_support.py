"""Shared by the draft tests: the built-in `compact` template, a brief, and a good answer for each section."""

from __future__ import annotations

from typing import Any

from agent.context.brief import Brief
from agent.template.catalog import load_template

TEMPLATE = load_template("compact")
BRIEF = Brief("Export invoices as CSV", "# Export invoices as CSV\n\nFinance wants a CSV download.", "brief.md")
TRACKED = frozenset({"src/billing/invoice.py", "src/billing/views.py", "tests/test_invoice.py"})

GOOD: dict[str, Any] = {
    "header": {"feature": "Invoice CSV export", "status": "draft", "size": "S"},
    "goal": "Finance downloads any invoice as CSV from its page; done when the file opens in a spreadsheet.",
    "plan": ["Add a to_csv method to the Invoice class", "Add a download route beside the invoice page"],
    "files": {
        "files_to_modify": ["`src/billing/invoice.py` - add to_csv", "`src/billing/views.py` - add the route"],
        "files_to_create": ["`src/billing/csv_export.py` - the CSV writer"],
    },
    "tests": ["The CSV of a two-line invoice has a header row and two rows"],
    "risks": ["Large invoices are slow to export; stream the rows"],
}
UNITS = sorted(GOOD)

SPINE_ANSWER: dict[str, Any] = {
    "summary": "Add Invoice.to_csv and a download route beside the invoice page.",
    "size": "S",
    "decisions": ["Write the CSV with the standard csv module: no new dependency"],
    "files_to_modify": [{"path": "src/billing/invoice.py", "change": "add to_csv"},
                        {"path": "src/billing/views.py", "change": "add the download route"}],
    "files_to_create": [{"path": "src/billing/csv_export.py", "change": "the CSV writer"}],
    "names": [{"kind": "function", "name": "invoice_csv_download", "meaning": "the route handler"}],
    "steps": ["CSV writer", "Download route"],
    "section_budgets": [{"section": "goal", "words": 40}, {"section": "plan", "words": 120}],
}
NO_FINDINGS: dict[str, Any] = {"findings": []}
