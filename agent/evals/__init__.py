"""`plan eval`: draft a fixed set of cases, grade the plans, and report quality, cost and speed.

cases (brief + repository + template + expectations) ──► runner (live, recorded or replayed through
cassettes at the Provider seam) ──► graders ──► report (table, JSON, Markdown) ──► compare
"""
