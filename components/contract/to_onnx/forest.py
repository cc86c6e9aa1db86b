"""scikit-learn's random forests (and extra trees) as one ONNX TreeEnsembleRegressor: every
tree's nodes, missing values sent the way each split learned (missing_go_to_left), and each
leaf's class shares (or value) divided by the number of trees, so the sum is predict_proba's
(or predict's) mean.

scikit-learn compares float32 inputs with double thresholds; each threshold here is the largest
float32 not above it, which makes the same comparison on float32 inputs exactly."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlrig.components.contract.to_onnx.graph import Graph

FORESTS = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
           "ExtraTreesRegressor")  # fmt: skip


def _floor32(thresholds: np.ndarray) -> np.ndarray:
    t32 = thresholds.astype(np.float32)
    above = t32.astype(np.float64) > thresholds
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def _tree(t: int, tree: Any, trees: int, classifier: bool, out: dict[str, list]) -> None:
    s = tree.tree_
    nodes = np.arange(s.node_count)
    leaf = s.children_left == -1
    out["nodes_treeids"] += [t] * s.node_count
    out["nodes_nodeids"] += nodes.tolist()
    out["nodes_featureids"] += np.where(leaf, 0, s.feature).tolist()
    out["nodes_modes"] += ["LEAF" if x else "BRANCH_LEQ" for x in leaf]
    out["nodes_values"] += np.where(leaf, 0.0, _floor32(s.threshold)).tolist()
    out["nodes_truenodeids"] += np.where(leaf, 0, s.children_left).tolist()
    out["nodes_falsenodeids"] += np.where(leaf, 0, s.children_right).tolist()
    missing = getattr(s, "missing_go_to_left", np.zeros(s.node_count, dtype=np.uint8))
    out["nodes_missing_value_tracks_true"] += np.where(leaf, 0, missing).astype(int).tolist()
    values = s.value[leaf][:, 0, :] if classifier else s.value[leaf][:, 0, :1]
    if classifier:
        values = values / values.sum(axis=1, keepdims=True)
    for node, row in zip(nodes[leaf], values / trees, strict=True):
        out["target_treeids"] += [t] * len(row)
        out["target_nodeids"] += [int(node)] * len(row)
        out["target_ids"] += list(range(len(row)))
        out["target_weights"] += row.tolist()


def forest(g: Graph, estimator: Any, x: str, classifier: bool) -> str:
    """Class shares [N, k] (classifier) or values [N, 1], doubles, of the encoded columns x."""
    trees = estimator.estimators_
    out: dict[str, list] = {k: [] for k in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
        "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
        "target_treeids", "target_nodeids", "target_ids", "target_weights")}  # fmt: skip
    for t, tree in enumerate(trees):
        _tree(t, tree, len(trees), classifier, out)
    targets = len(estimator.classes_) if classifier else 1
    summed = g.op("TreeEnsembleRegressor", g.op("Cast", x, to=1), domain="ai.onnx.ml",
                  n_targets=targets, aggregate_function="SUM", post_transform="NONE",
                  **out)  # fmt: skip
    return g.double(summed)
