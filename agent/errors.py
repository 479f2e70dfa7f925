"""Every error plan-agent raises on purpose, each with a message that says what to do next.

PlanError
 ├── InputError            bad input from the user: exit 2
 │    ├── TemplateError    a template that cannot be compiled (names the file and line)
 │    ├── BriefError       a brief that cannot be read
 │    ├── PlanFileError    a plan file that cannot be read or does not match its template
 │    ├── OutputExistsError  refusing to overwrite an existing plan without --force
 │    ├── PlanBusyError    another `plan` holds this plan's lock (drafting or revising it)
 │    └── ContextWindowError  a request larger than the model's context window: refused before it is sent
 └── ProviderError         the model could not be used: exit 1
      ├── MissingKeyError  no API key for the chosen provider
      ├── TransportError   the provider stayed unreachable or kept failing after retries
      ├── RejectedError    the provider refused this one request (HTTP 400, 413, 422): the others may pass
      └── BudgetError      the next call would pass --max-cost

Only the CLI turns these into exit codes; library code raises them and lets them travel.
"""

from __future__ import annotations


class PlanError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code = 1


class InputError(PlanError):
    exit_code = 2


class TemplateError(InputError):
    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class BriefError(InputError):
    pass


class PlanFileError(InputError):
    pass


class OutputExistsError(InputError):
    pass


class PlanBusyError(InputError):
    pass


class ContextWindowError(InputError):
    def __init__(self, what: str, excess: int,
                 fix: str = "send less context (--context-tokens) or use a model with a larger window") -> None:
        super().__init__(f"{what}; {fix}")
        self.what, self.excess = what, excess  # tokens over the window: what the request must lose to fit


class ProviderError(PlanError):
    exit_code = 1
    # Calls that reached the provider before it gave up (retries included): what the draft counts for it.
    attempts = 0


class MissingKeyError(ProviderError):
    pass


class TransportError(ProviderError):
    pass


class RejectedError(ProviderError):
    pass


class BudgetError(ProviderError):
    pass
