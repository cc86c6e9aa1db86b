"""`python -m mlrig.cli`."""

from mlrig.cli import app

app()
