"""`mlrig --help` and every command's parsing stay light: the CLI imports no pipeline, kfp, MLflow,
Feast or learner until a command needs it (building the pipelines alone takes 1.8 s)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["kfp", "mlrig.pipelines.registry", "mlflow", "feast", "lightgbm", "sklearn",
         "mlrig.components.monitor.explained"]  # fmt: skip


def test_importing_the_cli_imports_nothing_heavy():
    code = (
        "import json, sys; import mlrig.cli; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
