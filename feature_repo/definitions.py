"""Feast objects for the feast CLI, generated from mlrig.yaml (MLRIG_CONFIG) so a new dataset
needs only a new config: entities, one feature view per features.views entry, one FeatureService."""

from mlrig.components.config.loader import load
from mlrig.components.common.feast_store import definitions

for _obj in definitions(load()):
    globals()[_obj.name] = _obj
