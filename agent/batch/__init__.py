"""`plan batch`: draft a whole backlog, resumably, within the account's rate limits, directly or through
the providers' batch APIs. `run_batch` (agent.batch.runner) is the Python API behind the command.

In: a backlog (a folder of briefs, JSONL, CSV or a GitHub issues export: `sources`); out: one
`OUT/<id>-<slug>/plan.md` and plan.json per item, the resumable `manifest`, and a `summary` shown by `display`.
"""
