"""A table from an HTTP API: JSON records at a dotted path of each answer, page after page where
the answer names the next page, JSON lines, or a CSV body. ${VAR} in the URL and headers is
resolved here, and no message shows a resolved value: errors name the configured URL.

The configured headers (credentials) go only to the configured URL's origin: a next page or a
redirect to another origin is refused while headers are configured (followed without them when
none are), and the bodies of all pages together stop at max_bytes."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pandas as pd

from mlrig.components.config import env
from mlrig.components.config.schema import HttpSource
from mlrig.components.sources.errors import SourceError
from mlrig.components.sources.text import Text, csv_dtype

MAX_REDIRECTS = 5


def read_http(src: HttpSource, text: Text, limit: int | None = None) -> pd.DataFrame:
    """The source's records (a CSV's columns named in text read as text, or "all"); with a
    limit, pages stop being fetched once that many records are in (and a body is parsed only
    that far)."""
    url: str | None = env.resolve(src.url)
    with httpx.Client(timeout=src.timeout_s, follow_redirects=False) as client:
        fetch = _Fetcher(client, src, str(url))
        if src.format == "csv":
            body = fetch(str(url), src.url).decode(fetch.encoding)
            return pd.read_csv(
                io.StringIO(body), low_memory=False, dtype=csv_dtype(text), nrows=limit
            )
        if src.format == "jsonl":  # one record per line (an export or streaming endpoint)
            body = fetch(str(url), src.url).decode(fetch.encoding)
            return pd.read_json(
                io.StringIO(body), lines=True, convert_dates=False, dtype=False, nrows=limit
            )
        records: list[Any] = []
        seen: set[str] = set()
        while url and not (limit and len(records) >= limit):
            page = len(seen) + 1
            where = src.url if page == 1 else f"page {page} of {src.url}"
            if url in seen:
                raise SourceError(f"next_path '{src.next_path}': {where} names a page already read")
            if page > src.max_pages:
                raise SourceError(
                    f"{src.url}: more than max_pages ({src.max_pages}) pages; "
                    "raise max_pages or ask the API for less"
                )
            seen.add(url)
            try:
                payload = json.loads(fetch(url, where))
            except ValueError as exc:
                raise SourceError(f"{where}: the answer is not JSON ({exc})") from None
            records += _records(payload, src.records_path)
            following = _dig(payload, src.next_path)[0] if src.next_path else None
            url = urljoin(url, str(following)) if following else None
    return pd.DataFrame.from_records(records[:limit] if limit else records)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


class _Fetcher:
    """GETs bodies for one source: credentials to its own origin only, redirects followed by
    hand under the same rule, and one byte budget for every page."""

    def __init__(self, client: httpx.Client, src: HttpSource, url: str) -> None:
        self.client, self.src = client, src
        self.headers = {name: env.resolve(value) for name, value in src.headers.items()}
        self.origin = _origin(url)
        self.left = src.max_bytes
        self.encoding = "utf-8"

    def __call__(self, url: str, where: str) -> bytes:
        for hop in range(MAX_REDIRECTS + 1):
            same = _origin(url) == self.origin
            if not same and self.headers:
                scheme, host, port = _origin(url)
                what = "redirects" if hop else "leads"
                raise SourceError(
                    f"{where}: {what} to another origin ({scheme}://{host}:{port}); the "
                    f"configured headers ({', '.join(self.headers)}) are sent only to the "
                    "configured URL's origin"
                )
            with self.client.stream("GET", url, headers=self.headers if same else None) as answer:
                if answer.is_redirect:
                    url = urljoin(url, answer.headers.get("location", ""))
                    continue
                if answer.is_error:  # httpx's own message would show the resolved URL
                    raise SourceError(f"{where}: HTTP {answer.status_code} {answer.reason_phrase}")
                self.encoding = answer.encoding or "utf-8"
                return self._body(answer, where)
        raise SourceError(f"{where}: more than {MAX_REDIRECTS} redirects")

    def _body(self, answer: httpx.Response, where: str) -> bytes:
        chunks = []
        for chunk in answer.iter_bytes():
            self.left -= len(chunk)
            if self.left < 0:
                raise SourceError(
                    f"{where}: the answers exceed max_bytes ({self.src.max_bytes}); "
                    "raise max_bytes or ask the API for less"
                )
            chunks.append(chunk)
        return b"".join(chunks)


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
