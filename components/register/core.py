"""The promotion gate: does the challenger beat the champion on the same holdout?"""

from __future__ import annotations

from dataclasses import dataclass

LOWER_IS_BETTER = {"rmse", "mae"}


@dataclass
class Decision:
    promote: bool
    reason: str


def gate(
    metric: str, challenger: float, champion: float | None, min_delta: float = 0.0
) -> Decision:
    """Promote when there is no champion, or the challenger is better by at least min_delta."""
    if champion is None:
        return Decision(True, "no champion yet")
    gain = champion - challenger if metric in LOWER_IS_BETTER else challenger - champion
    if gain > min_delta:
        return Decision(True, f"{metric} {challenger:.4f} beats champion {champion:.4f}")
    return Decision(False, f"{metric} {challenger:.4f} does not beat champion {champion:.4f}")
