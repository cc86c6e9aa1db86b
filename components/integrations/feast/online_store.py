"""Reading the online store: the latest features of entity keys, for serving.

fetch (many rows) and fetch_one (one row) call the Feast online store's online_read, one read per
view of the feature service, with the service's views, keys and features looked up once instead
of on every call: Feast's generic get_online_features (registry lookups, protobuf responses,
de-duplicating entity rows) costs about 3 ms per request around reads of about 0.15 ms.
fetch_via_service is that generic path; tests/anytable/test_shop.py checks they give the same.

Given the request's time, a value follows the offline join's rules: an aggregate view's window
that has changed since the last materialization is read from its schedule (online_schedule.py),
a view's value older than its TTL at that time is missing (and so named in missing_features),
and each view's age (the request's time minus the value's event time) is reported beside them.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from mlrig.components.contract.contract import FeatureSet
from mlrig.components.integrations.feast import online_schedule
from mlrig.components.integrations.feast.feast_store import logical_name
from mlrig.components.runtime.catalog import EVENT_TS, SEP


class StoreUnavailable(RuntimeError):
    """The online store did not answer (Redis down, a locked or missing SQLite file)."""


def _unreachable() -> tuple[type[BaseException], ...]:
    """The errors that mean "the store is not there", not "the request is bad"."""
    errors: list[type[BaseException]] = [OSError, sqlite3.OperationalError]
    try:
        from redis.exceptions import ConnectionError as RedisDown
        from redis.exceptions import TimeoutError as RedisSlow

        errors += [RedisDown, RedisSlow]
    except ImportError:
        pass
    return tuple(errors)


def _fail_fast(store: Any) -> None:
    """Redis: one immediate retry and short socket timeouts, instead of redis-py's default of
    three retries with up to 10 s of backoff each, so a request with the store down gets its 503
    in about a second. (Feast's connection string cannot say this; its client is reached once.)"""
    config = store.config.online_store
    if getattr(config, "type", "") != "redis":
        return
    try:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = store._get_provider().online_store._get_client(config)
        client.set_retry(Retry(NoBackoff(), 1))
        kwargs = client.connection_pool.connection_kwargs
        for name, seconds in (("socket_connect_timeout", 2), ("socket_timeout", 5)):
            if kwargs.get(name) is None:  # unless the connection string set one
                kwargs[name] = seconds
    except (AttributeError, ImportError, TypeError):  # Feast moved its internals: its defaults
        return


@dataclass
class _ViewRead:
    """One view of a feature service, as online_read takes it."""

    view: Any  # the Feast FeatureView
    keys: list[tuple[str, bool]]  # (join key, is an int64 key)
    features: list[str]  # the service's features of this view
    columns: list[str]  # their model input names (view__feature)
    name: str  # the view's model input prefix (the config's view name)
    ttl: timedelta | None  # None: never expires
    schedule: Any = None  # the companion view of its changes after materialization, if any


class OnlineFeatures:
    """The latest features from the online store (the feature service is looked up once).
    A store that does not answer raises StoreUnavailable; the next call tries it again."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._services: dict[str, Any] = {}
        self._plans: dict[str, list[_ViewRead]] = {}
        _fail_fast(store)

    def service(self, name: str) -> Any:
        if name not in self._services:
            self._services[name] = self.store.get_feature_service(name)
        return self._services[name]

    def fetch(self, fs: FeatureSet, entity_df: pd.DataFrame) -> pd.DataFrame:
        """Many rows' features, by model input name, one online_read per view (as of each
        row's event time when the frame has one)."""
        times = list(entity_df[EVENT_TS]) if EVENT_TS in entity_df else None
        values, _ = self._read(fs, _entity_rows(entity_df), times)
        return pd.DataFrame(values, columns=self.columns(fs))

    def fetch_via_service(self, fs: FeatureSet, entity_df: pd.DataFrame) -> pd.DataFrame:
        """fetch() through Feast's generic get_online_features (the tests compare the two)."""
        rows = _entity_rows(entity_df)
        try:
            values = self.store.get_online_features(
                features=self.service(fs.service), entity_rows=rows, full_feature_names=True
            ).to_dict()
        except _unreachable() as exc:
            raise StoreUnavailable(f"online feature store unavailable: {exc}") from exc
        keys = set(rows[0]) if rows else set()
        out = pd.DataFrame({c: v for c, v in values.items() if c not in keys})
        return out.rename(columns={c: logical_name(str(c), fs) for c in out.columns})

    def columns(self, fs: FeatureSet) -> list[str]:
        """The model input names of the service's features, in the order fetch gives them."""
        return [c for read in self._plan(fs) for c in read.columns]

    def fetch_one(self, fs: FeatureSet, keys: dict[str, Any], at: Any = None) -> dict[str, Any]:
        """One entity row's features by model input name (None: the store has no value, or
        its value is past the view's TTL at time `at`).
        keys: join key -> value, every key present and typed (int or str)."""
        return self.fetch_one_aged(fs, keys, at)[0]

    def fetch_one_aged(
        self, fs: FeatureSet, keys: dict[str, Any], at: Any = None
    ) -> tuple[dict[str, Any], dict[str, float | None]]:
        """fetch_one, and each view's age in seconds at `at` (None: no value, or a static view)."""
        values, ages = self._read(fs, [keys], None if at is None else [at])
        return ({c: v[0] for c, v in values.items()}, {n: a[0] for n, a in ages.items()})

    def ages(
        self, fs: FeatureSet, rows: list[dict[str, Any] | None], times: list[Any]
    ) -> list[dict[str, float | None]]:
        """Each row's view ages in seconds at its time (rows: join key -> value; None for a
        row without a full key, which has no features and so no ages)."""
        whole = [i for i, r in enumerate(rows) if r is not None]
        out: list[dict[str, float | None]] = [{} for _ in rows]
        if not whole:
            return out
        _, ages = self._read(fs, [rows[i] for i in whole], [times[i] for i in whole])
        for j, i in enumerate(whole):
            out[i] = {name: values[j] for name, values in ages.items()}
        return out

    def _read(
        self, fs: FeatureSet, rows: list[dict[str, Any]], times: list[Any] | None = None
    ) -> tuple[dict[str, list[Any]], dict[str, list[float | None]]]:
        """Each feature's values for rows (join key -> value), reading each distinct key once,
        and each view's age per row. times: each row's time (TTL, age, windows), or None."""
        online = self._online_store()
        out: dict[str, list[Any]] = {}
        ages: dict[str, list[float | None]] = {}
        at = [_utc(t) for t in times] if times is not None else [None] * len(rows)
        try:
            for read in self._plan(fs):
                where: dict[tuple, list[int]] = {}
                for i, row in enumerate(rows):
                    where.setdefault(tuple(row[k] for k, _ in read.keys), []).append(i)
                protos = _protos(list(where), read.keys)
                # a fresh list: Redis's online_read appends its timestamp key to the one it gets
                wanted = list(read.features)
                found = online.online_read(self.store.config, read.view, protos, wanted)
                for column in read.columns:
                    out[column] = [None] * len(rows)
                age = ages.setdefault(read.name, [None] * len(rows))
                plans = self._schedules(online, read, protos)
                for positions, (stamp, values), plan in zip(
                    where.values(), found, plans, strict=True
                ):
                    stamp = _utc(stamp) if values else None
                    latest = {f: _python(values, f) for f in read.features}
                    if plan is not None and plan[0] != stamp:
                        plan = None  # it follows an older row than the one the store holds
                    for i in positions:
                        when, now = _as_of(stamp, latest, plan, at[i])
                        if when is not None and at[i] is not None and when > STATIC:
                            age[i] = (at[i] - when).total_seconds()
                        expired = _expired(when, at[i], read.ttl)
                        for feature, column in zip(read.features, read.columns, strict=True):
                            out[column][i] = None if expired else now[feature]
        except _unreachable() as exc:
            raise StoreUnavailable(f"online feature store unavailable: {exc}") from exc
        return out, ages

    def _schedules(self, online: Any, read: _ViewRead, protos: list[Any]) -> list[Any]:
        """Per key: (the stamp its schedule follows, its parsed changes), or None."""
        if read.schedule is None:
            return [None] * len(protos)
        found = online.online_read(
            self.store.config, read.schedule, protos, [online_schedule.COLUMN]
        )
        plans: list[Any] = []
        for stamp, values in found:
            plan = online_schedule.parse(_python(values, online_schedule.COLUMN))
            plans.append(None if plan is None else (_utc(stamp), plan))
        return plans

    def _online_store(self) -> Any:
        return self.store._get_provider().online_store

    def _plan(self, fs: FeatureSet) -> list[_ViewRead]:
        if fs.service not in self._plans:
            plan = []
            for projection in self.service(fs.service).feature_view_projections:
                view = self.store.get_feature_view(projection.name)
                keys = [(c.name, "int" in str(c.dtype).lower()) for c in view.entity_columns]
                features = [f.name for f in projection.features]
                prefix = fs.views.get(projection.name_to_use(), projection.name_to_use())
                columns = [f"{prefix}{SEP}{f}" for f in features]
                ttl = view.ttl if view.ttl and view.ttl.total_seconds() > 0 else None
                schedule = self._companion(projection.name)
                plan.append(_ViewRead(view, keys, features, columns, prefix, ttl, schedule))
            self._plans[fs.service] = plan
        return self._plans[fs.service]

    def _companion(self, name: str) -> Any:
        """A view's schedule of changes after the last materialization, if it has one."""
        from feast.errors import FeatureViewNotFoundException

        try:
            return self.store.get_feature_view(online_schedule.view_name(name))
        except FeatureViewNotFoundException:
            return None


def _protos(keys: list[tuple], spec: list[tuple[str, bool]]) -> list[Any]:
    """Feast entity keys of key tuples (spec: join key, is an int64 key)."""
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey
    from feast.protos.feast.types.Value_pb2 import Value

    names = [k for k, _ in spec]
    return [
        EntityKey(
            join_keys=names,
            entity_values=[
                Value(int64_val=v) if is_int else Value(string_val=v)
                for v, (_, is_int) in zip(key, spec, strict=True)
            ],
        )
        for key in keys
    ]


def _python(values: dict[str, Any] | None, feature: str) -> Any:
    """One stored feature's value as a Python value (None: not stored)."""
    from feast.type_map import feast_value_type_to_python_type

    value = (values or {}).get(feature)
    return None if value is None else feast_value_type_to_python_type(value)


def _as_of(
    stamp: datetime | None, latest: dict[str, Any], plan: Any, at: datetime | None
) -> tuple[datetime | None, dict[str, Any]]:
    """The values and their time at `at`: the stored row's, or its schedule's last change due."""
    if plan is None or at is None:
        return stamp, latest
    index = online_schedule.due(plan[1], pd.Timestamp(at).value)
    if index is None:
        return stamp, latest
    times, later = plan[1]
    when = pd.Timestamp(times[index], tz="UTC").to_pydatetime()
    return when, {f: later[f][index] if f in later else v for f, v in latest.items()}


STATIC = datetime(1970, 1, 2, tzinfo=UTC)  # static views are stamped 1970-01-01: no age


def _expired(stamp: datetime | None, at: datetime | None, ttl: timedelta | None) -> bool:
    """As the offline join rules: a value older than the TTL at the request's time is gone."""
    return ttl is not None and stamp is not None and at is not None and stamp < at - ttl


def _utc(value: Any) -> datetime | None:
    """A time as an aware UTC datetime (naive means UTC, as Feast stores it); None for none."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime) and not isinstance(value, pd.Timestamp):  # the common case
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def _entity_rows(entity_df: pd.DataFrame) -> list[dict[str, Any]]:
    """The key columns of an entity frame as rows of plain Python values."""
    keys = [c for c in entity_df.columns if c != EVENT_TS]
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in entity_df[keys].to_dict("records")
    ]
