"""The promotion gate: does the challenger beat the champion on the same rows?"""

from __future__ import annotations

from dataclasses import dataclass

from mlrig.components.contract.metrics import better


@dataclass
class Decision:
    promote: bool
    reason: str


def gate(
    metric: str,
    challenger: float,
    champion: float | None,
    min_delta: float = 0.0,
    *,
    has_champion: bool | None = None,
    sampled: bool = False,
    incomparable: str = "",
    min_metric: float | None = None,
    auto_promote: bool = True,
) -> Decision:
    """Promote when there is no champion, or when the challenger, on the same rows, is better by
    more than min_delta. A sampled run, or a champion that cannot be scored on these rows, never
    leads to an automatic promotion; nor does a challenger below min_metric, nor any challenger
    when auto_promote is off."""
    has_champion = champion is not None if has_champion is None else has_champion
    if not auto_promote:
        return Decision(
            False,
            "automatic promotion is off (model.gate.auto_promote); "
            "promote with mlrig model promote",
        )
    if min_metric is not None and better(metric, challenger, min_metric) < 0:
        return Decision(False, f"{metric} {challenger:.4f} misses the minimum {min_metric}")
    if not has_champion:
        return Decision(True, "no champion yet" + (" (sampled run)" if sampled else ""))
    if sampled:
        return Decision(
            False,
            "a sampled run (--sample) never replaces a champion "
            "automatically; promote it by hand if you mean to",
        )
    if incomparable or champion is None:
        return Decision(False, f"not compared, champion kept: {incomparable}")
    gain = better(metric, challenger, champion)
    if gain > min_delta:
        return Decision(
            True, f"{metric} {challenger:.4f} beats champion {champion:.4f} on the same rows"
        )
    return Decision(
        False,
        f"{metric} {challenger:.4f} does not beat champion {champion:.4f} "
        f"by more than {min_delta} on the same rows",
    )
