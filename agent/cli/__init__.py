"""The `plan` command: argument parsing only; each command calls one library function.

Library modules are imported inside the commands so that `plan --help` stays fast. Each module of this
package adds its commands to the one `app`; importing them here registers them, in `--help` order.
"""

# isort: off
from agent.cli import plans, batch, evals, templates
from agent.cli.app import app, main

# isort: on

__all__ = ["app", "batch", "evals", "main", "plans", "templates"]
