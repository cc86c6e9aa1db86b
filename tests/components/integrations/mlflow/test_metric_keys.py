"""Column names as MLflow metric keys: what MLflow refuses ('$', '(', '%') is replaced, each
column keeps a key of its own, and a real store takes every one."""

from __future__ import annotations

from mlrig.components.config.place import Place
from mlrig.components.config.schema import Stores
from mlrig.components.integrations.mlflow.tracking import configure, metric_keys

COLUMNS = ["price ($)", "größe", "a.b", "share %", "share #", "od280/od315", "plain"]


def test_names_mlflow_refuses_become_keys_it_takes_one_per_column(tmp_path):
    keys = metric_keys(COLUMNS, "psi.")
    assert keys["price ($)"] == "psi.price ___"
    assert keys["größe"] == "psi.größe" and keys["a.b"] == "psi.a.b"  # allowed as they are
    assert keys["od280/od315"] == "psi.od280/od315" and keys["plain"] == "psi.plain"
    assert len(set(keys.values())) == len(COLUMNS)  # 'share %' and 'share #' stay apart

    mlflow = configure(Place(Stores(experiment="keys"), tmp_path, tmp_path / ".mlrig"))
    with mlflow.start_run() as run:
        mlflow.log_metrics({key: 0.1 for key in keys.values()})
    logged = mlflow.get_run(run.info.run_id).data.metrics
    assert set(logged) == set(keys.values())
