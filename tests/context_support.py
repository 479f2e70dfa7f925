"""Fixture repositories for the context builder tests, built in tmp_path: git ones and plain directories."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}

PYTHON_REPO = {
    "pyproject.toml": (
        '[project]\nname = "shop"\ndependencies = ["fastapi>=0.110", "sqlalchemy"]\n\n'
        '[project.optional-dependencies]\ndev = ["pytest>=8", "ruff"]\n\n[tool.ruff]\nline-length = 100\n'
    ),
    "README.md": "# Shop\n\nA small shop backend: invoices, payments and user accounts.\n",
    "shop/__init__.py": "",
    "shop/billing/__init__.py": "",
    "shop/billing/invoices.py": (
        "from fastapi import APIRouter\n\nrouter = APIRouter()\nMAX_LINES = 50\n\n\n"
        "class InvoiceService:\n"
        "    def create_invoice(self, customer_id: int) -> dict:\n"
        "        return {'customer': customer_id}\n\n\n"
        '@router.post("/invoices")\n'
        "def post_invoice(customer_id: int) -> dict:\n"
        "    return InvoiceService().create_invoice(customer_id)\n"
    ),
    "shop/billing/payments.py": "def charge(amount: float) -> None:\n    print('charging', amount)\n",
    "shop/users/accounts.py": (
        "class Account:\n    email: str\n\n\n"
        "def reset_password(account: Account) -> None:\n"
        "    '''Send the password reset email with a one-time link.'''\n"
    ),
    "tests/test_invoices.py": "def test_create_invoice() -> None:\n    assert True\n",
}

TYPESCRIPT_REPO = {
    "package.json": (
        '{"name": "web", "scripts": {"test": "vitest run", "lint": "eslint ."},'
        ' "dependencies": {"react": "^18.2.0", "express": "^4.19.0"},'
        ' "devDependencies": {"typescript": "^5.4.0", "vitest": "^1.6.0", "eslint": "^8.57.0"}}\n'
    ),
    "pnpm-lock.yaml": "lockfileVersion: '6.0'\n",
    "tsconfig.json": '{"compilerOptions": {"strict": true}}\n',
    "src/server.ts": (
        "import express from 'express';\n\nconst app = express();\n\n"
        "app.get('/api/orders/:id', (req, res) => res.json({ id: req.params.id }));\n\n"
        "export function startServer(port: number): void {\n  app.listen(port);\n}\n"
    ),
    "src/orders/OrderService.ts": (
        "export interface Order {\n  id: string;\n  total: number;\n}\n\n"
        "export type OrderId = string;\n\n"
        "export class OrderService {\n"
        "  async cancelOrder(id: OrderId): Promise<void> {\n    await fetch(`/api/orders/${id}`, { method: 'DELETE' });\n  }\n"
        "}\n"
    ),
    "src/components/OrderList.tsx": (
        "import React from 'react';\n\n"
        "export function OrderList(props: { orders: string[] }) {\n  return <ul>{props.orders.length}</ul>;\n}\n"
    ),
}


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


def git_repo(root: Path, tracked: Mapping[str, str | bytes], untracked: Mapping[str, str | bytes] = {}) -> Path:
    """A git repository with `tracked` committed and `untracked` written afterwards, never added."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    write_tree(root, tracked)
    if tracked:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "fixture")
    return write_tree(root, untracked)
