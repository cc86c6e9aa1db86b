"""The tracking server's logins, one per role (the cluster profile's MLflow basic-auth app).

- `admin` (the pipeline and the monitor job, which retrains): writes runs, model versions, tags
  and aliases. Its password is in the Secret mlrig-postgres, which the serving pods do not mount.
- `serving` (the serving pods, the only ones facing clients): no permission of its own, so the
  server's `default_permission = READ` (manifests/base/mlflow-auth.ini) is all it has: it reads
  models and their files and can change nothing, not the `mlrig.sha256` digest, not an alias.

`python -m mlrig.components.integrations.mlflow.tracking_users` runs in the MLflow pod before the
server starts: it creates the serving user in the server's user store (or sets its password again,
so a rotated Secret takes effect at the next start), never as an admin.
"""

from __future__ import annotations

import os
import sys

from mlrig.components.config import env

SERVING_USER = "serving"


def ensure_user(database_uri: str, username: str, password: str) -> str:
    """Create a non-admin user in the basic-auth store at database_uri, or reset its password;
    returns 'created' or 'updated'. Refuses to touch an admin of that name."""
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    if not password:
        raise ValueError(f"no password for the MLflow user '{username}'")
    store = SqlAlchemyStore()
    store.init_db(database_uri)
    if not store.has_user(username):
        store.create_user(username, password, is_admin=False)
        return "created"
    if store.get_user(username).is_admin:
        raise ValueError(f"the MLflow user '{username}' is an admin: not a read-only login")
    store.update_user(username, password)
    return "updated"


def main() -> int:
    """Ensure the serving user from MLFLOW_AUTH_CONFIG_PATH's store and MLRIG_MLFLOW_SERVING_
    PASSWORD (or its _FILE)."""
    from mlflow.server.auth.config import read_auth_config

    env.load_secret_files()
    try:
        done = ensure_user(
            read_auth_config().database_uri,
            SERVING_USER,
            os.environ.get(env.TRACKING_SERVING_PASSWORD, ""),
        )
    except ValueError as exc:
        print(f"mlrig: {exc}", file=sys.stderr)
        return 2
    print(f"mlrig: MLflow user '{SERVING_USER}' {done} (read-only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
