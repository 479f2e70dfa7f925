"""Filler for the large-repository case, written at run time so thousands of files are not committed.

Deterministic for the same spec: the same names and contents on every run, so replayed cassettes match.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from agent.errors import InputError

NOUNS = ("account", "audit", "basket", "catalog", "coupon", "device", "email", "export", "feed", "gateway",
         "invoice", "ledger", "locale", "media", "notice", "order", "parcel", "payout", "profile", "quota",
         "rating", "refund", "report", "review", "route", "search", "session", "shipment", "stock", "survey",
         "tariff", "ticket", "token", "upload", "vendor", "voucher", "webhook", "wishlist", "zone", "badge")
VERBS = ("load", "save", "sync", "merge", "score", "render", "notify", "resolve", "index", "purge")
LANGUAGES = {"py": "def {verb}_{noun}(value):\n    return value\n",
             "ts": "export function {verb}{Noun}(value: unknown): unknown {{\n  return value;\n}}\n",
             "go": "package {noun}\n\nfunc {Verb}{Noun}(value any) any {{\n\treturn value\n}}\n"}


def generate_files(root: Path, spec: dict[str, Any]) -> int:
    """Write the filler `spec` describes under `root`; returns how many files were written."""
    if spec.get("kind") != "monorepo":
        raise InputError(f"unknown generator {spec.get('kind')!r} in expect.yaml; use kind: monorepo")
    rng = random.Random(int(spec.get("seed", 0)))
    services, per_service = int(spec.get("services", 40)), int(spec.get("files_per_service", 25))
    written = 0
    for index in range(services):
        service = f"services/{NOUNS[index % len(NOUNS)]}-{index // len(NOUNS) + 1}"
        extension = rng.choice(sorted(LANGUAGES))
        (root / service / "src").mkdir(parents=True, exist_ok=True)
        for number in range(per_service):
            noun, verb = rng.choice(NOUNS), rng.choice(VERBS)
            path = root / service / "src" / f"{verb}_{noun}_{number}.{extension}"
            if not path.exists():  # a file the case's own repo/ already holds is kept
                path.write_text(LANGUAGES[extension].format(verb=verb, noun=noun, Verb=verb.title(), Noun=noun.title()))
                written += 1
        (root / service / "README.md").write_text(f"# {service}\n\nOwns the {service.split('/')[1]} service.\n",
                                                  encoding="utf-8")
    return written
