"""The validator: a plan's markdown (and optionally its repository) in, a list of `Finding`s out.

- `validate`: aligns a plan's headings with its compiled template and runs the checks.
- `sections`: checks on the content under one heading (placeholders, guidance, choices, emptiness).
- `tables`, `files`: checks on tables and on file paths named in the plan.
- `findings`: the `Finding` type and the context that collects them.
"""
