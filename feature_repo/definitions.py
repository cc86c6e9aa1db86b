"""Feast objects for the feast CLI, generated from mlrig.yaml (MLRIG_CONFIG) so a new dataset
needs only a new config: entities, one feature view per features.views entry, one FeatureService.

They are the objects of the live feature set (the one the online store holds, named with its
version); before any training run, the unversioned names of the config."""

from mlrig.components.config.loader import load
from mlrig.components.features.core import feature_columns
from mlrig.components.integrations.feast.feast_store import definitions, live_feature_set

_loaded = load()
_live = live_feature_set(_loaded)
_columns = {v.name: feature_columns(_loaded.config, v) for v in _loaded.config.features.views}
for _obj in definitions(_loaded, _columns, _live.version if _live else ""):
    globals()[_obj.name] = _obj
