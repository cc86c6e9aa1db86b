"""The one image every component runs in (a cluster pulls it; kfp.local's Docker runner runs it)."""

from mlrig.components.config import env

MLRIG_IMAGE = env.image()
