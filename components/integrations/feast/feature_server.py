"""Feast's feature server with only its read routes: apps get features, nobody writes.

`feast serve` has no read-only mode: /push, /write-to-online-store, /materialize and
/materialize-incremental are open to anyone who can reach the port, with no authentication by
default. This server is Feast's own FastAPI app (feast.feature_server.get_app) with every route
outside READ_ROUTES removed before it starts, so a write is a 404 that never reaches the store.
The online store is written only by `mlrig features materialize` and promotion.
"""

from __future__ import annotations

from typing import Any

from mlrig.components.integrations.feast.unchecked import import_feast

READ_ROUTES = frozenset({"/get-online-features", "/health"})


def read_only_app(store: Any) -> Any:
    """Feast's feature-server app for store, keeping only READ_ROUTES."""
    import_feast()
    from feast import feature_server
    from feast.permissions.server.utils import (
        ServerType,
        init_auth_manager,
        init_security_manager,
        str_to_auth_manager_type,
    )

    auth_type = str_to_auth_manager_type(store.config.auth_config.type)
    init_security_manager(auth_type=auth_type, fs=store)
    init_auth_manager(
        auth_type=auth_type, server_type=ServerType.REST, auth_config=store.config.auth_config
    )
    app = feature_server.get_app(store)
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", "") in READ_ROUTES]
    app.openapi_schema = None  # rebuilt from the remaining routes if asked for
    return app


def serve(store: Any, host: str, port: int) -> None:
    """Run the read-only feature server until SIGTERM/SIGINT."""
    import uvicorn

    uvicorn.run(read_only_app(store), host=host, port=port, access_log=False)
