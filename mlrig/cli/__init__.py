"""The `mlrig` command line: the commands, assembled from one module per group."""

from __future__ import annotations

import json

import typer

from mlrig.cli.cluster import cluster_app, deploy, image_app, pipeline_app
from mlrig.cli.common import console
from mlrig.cli.explain import explain
from mlrig.cli.features import features_app
from mlrig.cli.init import init
from mlrig.cli.model import model_app
from mlrig.cli.monitor import monitor_app
from mlrig.cli.predict import score, serve
from mlrig.cli.project import config_app, run
from mlrig.components.runtime.process import exit_without_collecting

exit_without_collecting()  # a command ends when its work does

app = typer.Typer(help="mlrig: data in, a monitored prediction service out.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.command()(run)
app.command()(init)
app.command()(score)
app.command()(serve)
app.command()(explain)
app.add_typer(features_app, name="features")
app.add_typer(model_app, name="model")
app.add_typer(monitor_app, name="monitor")
app.add_typer(image_app, name="image")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(cluster_app, name="cluster")
app.command("deploy")(deploy)


@app.command()
def version() -> None:
    """Print versions of mlrig and its stack."""
    from importlib.metadata import version as v

    names = ["mlrig", "kfp", "feast", "mlflow", "bentoml", "pandas", "scikit-learn"]
    console.print(json.dumps({n: v(n) for n in names}, indent=2))


if __name__ == "__main__":
    app()
