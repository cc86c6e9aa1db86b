"""Feast objects for the feast CLI, generated from mlrig.yaml (MLRIG_CONFIG) so a new dataset
needs only a new config: entities, one feature view per features.views entry, one FeatureService.

They are the objects of the live feature set (the one the online store holds, named with its
version); before any training run, the unversioned names of the config."""

from mlrig.components.config.loader import load
from mlrig.components.features.core import feature_columns
from mlrig.components.integrations.feast.feast_store import definitions, live_feature_set

_loaded = load()
_live = live_feature_set(_loaded.place)
_columns = {v.name: feature_columns(_loaded.config, v) for v in _loaded.config.features.views}
_version = _live.version if _live else ""
for _obj in definitions(_loaded.config, _loaded.place, _columns, _version):
    globals()[_obj.name] = _obj
