"""Score against cost, one point per model (and faint points per case): `pip install 'plan-agent[plot]'`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.errors import InputError

INSTALL_HINT = "--plot needs matplotlib: pip install 'plan-agent[plot]' (or pip install matplotlib)"


def require_matplotlib() -> None:
    """Fail before any work when the plot could not be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError(INSTALL_HINT) from None


def plot_reports(reports: list[dict[str, Any]], path: Path) -> None:
    """Each report's mean score against its total cost (unpriced models at zero), written as a PNG."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for index, report in enumerate(reports):
        total, colour = report["aggregate"], f"C{index}"
        cost = total.get("cost_usd") or 0.0
        case_costs = [case["measures"].get("cost_usd") or 0.0 for case in report["cases"]]
        axes.scatter(case_costs, [case["score"] for case in report["cases"]], alpha=0.25, s=12, color=colour)
        axes.scatter([cost], [total["score"]], s=60, color=colour, label=f"{report['model']} ({report['mode']})")
        axes.annotate(report["model"], (cost, total["score"]), textcoords="offset points", xytext=(6, 4))
    axes.set_xlabel("cost, US dollars (cases: per plan; models: the whole case set)")
    axes.set_ylabel("score (0 to 1)")
    axes.set_ylim(0, 1.05)
    axes.set_xlim(left=0)
    axes.set_title("plan eval: score against cost")
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
