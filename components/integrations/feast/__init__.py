"""The only package that imports Feast; it is imported without typeguard's checks (unchecked)."""

from mlrig.components.integrations.feast.unchecked import import_feast

import_feast()
