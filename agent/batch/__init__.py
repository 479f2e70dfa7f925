"""`plan batch`: draft a whole backlog, resumably, within the account's rate limits, directly or through
the providers' batch APIs. `run_batch` (agent.batch.runner) is the Python API behind the command."""
