"""The Spark tier: Feast's Spark offline store in local mode (pyspark and Java 17 on the machine;
skipped, saying which is missing, without them)."""

from __future__ import annotations

import importlib.util
import shutil

import pytest


def pytest_collection_modifyitems(items: list) -> None:
    missing = [name for name, ok in (("pyspark", importlib.util.find_spec("pyspark")),
                                     ("java", shutil.which("java"))) if not ok]  # fmt: skip
    for item in items:
        if "tests/spark/" in str(item.fspath):
            item.add_marker(pytest.mark.spark)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"no {', '.join(missing)} here"))
