"""plan-agent: draft implementation plans in a team's own template, validated section by section."""

__version__ = "0.1.0"
