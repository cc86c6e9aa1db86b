"""A table from an HTTP API: JSON records at a dotted path of each answer, page after page where
the answer names the next page, JSON lines, or a CSV body. ${VAR} in the URL and headers is
resolved here, and no message shows a resolved value: errors name the configured URL."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urljoin

import httpx
import pandas as pd

from mlrig.components.config import env
from mlrig.components.config.schema import HttpSource
from mlrig.components.ingest.errors import SourceError
from mlrig.components.ingest.text import Text, csv_dtype


def read_http(src: HttpSource, text: Text, limit: int | None = None) -> pd.DataFrame:
    """The source's records (a CSV's columns named in text read as text, or "all"); with a
    limit, pages stop being fetched once that many records are in (and a body is parsed only
    that far)."""
    headers = {name: env.resolve(value) for name, value in src.headers.items()}
    with httpx.Client(headers=headers, timeout=src.timeout_s, follow_redirects=True) as client:
        url: str | None = env.resolve(src.url)
        if src.format == "csv":
            body = _get(client, str(url), src.url).text
            return pd.read_csv(io.StringIO(body), low_memory=False, dtype=csv_dtype(text),
                               nrows=limit)  # fmt: skip
        if src.format == "jsonl":  # one record per line (an export or streaming endpoint)
            body = _get(client, str(url), src.url).text
            return pd.read_json(io.StringIO(body), lines=True, convert_dates=False, dtype=False,
                                nrows=limit)  # fmt: skip
        records: list[Any] = []
        seen: set[str] = set()
        while url and not (limit and len(records) >= limit):
            page = len(seen) + 1
            where = src.url if page == 1 else f"page {page} of {src.url}"
            if url in seen:
                raise SourceError(f"next_path '{src.next_path}': {where} names a page already read")
            if page > src.max_pages:
                raise SourceError(f"{src.url}: more than max_pages ({src.max_pages}) pages; "
                                  "raise max_pages or ask the API for less")  # fmt: skip
            seen.add(url)
            payload = _get(client, url, where).json()
            records += _records(payload, src.records_path)
            following = _dig(payload, src.next_path)[0] if src.next_path else None
            url = urljoin(url, str(following)) if following else None
    return pd.DataFrame.from_records(records[:limit] if limit else records)


def _get(client: httpx.Client, url: str, where: str) -> httpx.Response:
    response = client.get(url)
    if response.is_error:  # httpx's own message would show the resolved URL
        raise SourceError(f"{where}: HTTP {response.status_code} {response.reason_phrase}")
    return response


def _dig(payload: Any, path: str | None) -> tuple[Any, str | None]:
    """The value at a dotted path, and the first key that is not there (None when found)."""
    for key in path.split(".") if path else []:
        if not isinstance(payload, dict) or key not in payload:
            return None, key
        payload = payload[key]
    return payload, None


def _records(payload: Any, records_path: str | None) -> list[Any]:
    records, missing = _dig(payload, records_path)
    if missing is not None:
        raise SourceError(f"records_path '{records_path}': no key '{missing}' in the response")
    if not isinstance(records, list):
        raise SourceError("the response is not a list of records (set records_path)")
    return records
