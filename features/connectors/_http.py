"""HTTP for the connectors: timeouts, retries with backoff, body checks and one-line errors.

Every connector talks to its API through :func:`request`, which

* sends with a connect/read timeout and retries connection errors, timeouts, transfers cut short,
  HTTP 429 and 5xx, with exponential backoff (a ``Retry-After`` header is honoured, capped);
* turns any other failure into a one-line :class:`FetchError` naming the source and the URL;
* checks the body before anyone parses it: not empty, as long as ``Content-Length`` says, and of
  the expected kind. :meth:`Download.json` and :meth:`Download.xml` raise ``FetchError`` for a body
  that does not parse, which is how a truncated body shows up when the server sent no length.

Secrets (API keys) travel in request headers only, never in a URL or query, so the URLs this
module logs, stores and puts in messages are clean by construction; anything that echoes a server
response into a message is passed through :func:`redact` as well.
"""

from __future__ import annotations

import email.utils
import io
import json
import logging
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import requests

from features.errors import InputError

log = logging.getLogger(__name__)

#: (connect, read) timeout in seconds
TIMEOUT: tuple[float, float] = (15.0, 120.0)
#: attempts after the first one, for the transient failures listed in the module docstring
RETRIES = 4
#: first wait in seconds, doubled at each retry
BACKOFF = 2.0
#: longest single wait, also the cap on a server's Retry-After
MAX_WAIT = 60.0
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "sanctioncast/0.1 (research; python-requests)"

Expect = Literal["json", "xml", "xlsx", "html"]
Params = Mapping[str, str | Sequence[str]]

#: replaced by the tests so that retries do not wait
_sleep = time.sleep


class FetchError(InputError):
    """A download failed or returned something unusable; one line naming the source and URL."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def shown_url(url: str, params: Params | None = None) -> str:
    """The URL with its query, as it appears in logs, manifests and messages (no secrets)."""
    if not params:
        return url
    return f"{url}?{urlencode(_as_pairs(params))}"


def _as_pairs(params: Params) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, str):
            pairs.append((key, value))
        else:
            pairs.extend((key, v) for v in value)
    return pairs


@dataclass(frozen=True)
class Download:
    """One checked HTTP response.

    Attributes
    ----------
    source : connector name, used in messages.
    url : the URL without its query.
    params : the query as sent (repeated keys as lists); never holds a secret.
    status : HTTP status code.
    content : the body, complete (checked against ``Content-Length``) and not empty.
    content_type : the ``Content-Type`` header.
    headers : response headers worth keeping (``Last-Modified``, ``ETag``, ``Date``).
    """

    source: str
    url: str
    params: dict[str, Any]
    status: int
    content: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """``source: url?query`` for messages."""
        return f"{self.source}: {shown_url(self.url, self.params)}"

    def json(self) -> Any:
        """The body parsed as JSON; ``FetchError`` if it is not (a truncated body fails here)."""
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise FetchError(
                f"{self.where}: body is not valid JSON, truncated or an error page "
                f"({len(self.content)} bytes, {exc.__class__.__name__} at {_position(exc)})"
            ) from exc

    def xml(self) -> ET.Element:
        """The body parsed as XML; ``FetchError`` if it is not (a truncated body fails here)."""
        try:
            return ET.fromstring(self.content)
        except ET.ParseError as exc:
            raise FetchError(
                f"{self.where}: body is not valid XML, truncated or an error page "
                f"({len(self.content)} bytes, {exc})"
            ) from exc

    def text(self, encoding: str = "utf-8") -> str:
        """The body decoded as text (undecodable bytes replaced)."""
        return self.content.decode(encoding, errors="replace")


def _position(exc: Exception) -> str:
    pos = getattr(exc, "pos", None)
    return f"byte {pos}" if pos is not None else "start"


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _snippet(resp: requests.Response, secrets: Iterable[str]) -> str:
    text = " ".join(resp.content[:400].decode("utf-8", errors="replace").split())
    text = redact(text, secrets)
    return text[:200] if text else "(empty body)"


def _check_body(
    resp: requests.Response, source: str, shown: str, expect: Expect | None, secrets: Sequence[str]
) -> None:
    content = resp.content
    if not content:
        raise FetchError(f"{source}: empty body from {shown} (HTTP {resp.status_code})")
    declared = resp.headers.get("Content-Length")
    # requests decodes gzip/deflate, after which the declared length no longer applies
    if (
        declared
        and declared.isdigit()
        and not resp.headers.get("Content-Encoding")
        and int(declared) != len(content)
    ):
        raise FetchError(
            f"{source}: truncated body from {shown}: "
            f"{len(content)} of {int(declared)} bytes (Content-Length)"
        )
    ctype = resp.headers.get("Content-Type", "").lower()
    if expect in ("json", "xml", "xlsx") and "text/html" in ctype:
        raise FetchError(
            f"{source}: expected {expect.upper()} from {shown}, got an HTML page: "
            f"{_snippet(resp, secrets)}"
        )
    if expect == "xlsx":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as zf:
                zf.namelist()
        except zipfile.BadZipFile as exc:
            raise FetchError(
                f"{source}: body from {shown} is not an xlsx workbook, truncated or an error "
                f"page ({len(content)} bytes)"
            ) from exc


def request(
    source: str,
    url: str,
    *,
    session: requests.Session,
    method: str = "GET",
    params: Params | None = None,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    secrets: Sequence[str] = (),
    expect: Expect | None = None,
    timeout: tuple[float, float] = TIMEOUT,
    retries: int = RETRIES,
    backoff: float = BACKOFF,
) -> Download:
    """Send one request with retries and return the checked :class:`Download`.

    Parameters
    ----------
    source : connector name, used in messages and logs.
    url : endpoint without query; the query goes in ``params``.
    session : the ``requests.Session`` to send with (tests mount a mock on it).
    method : ``"GET"`` or ``"POST"``.
    params : query parameters; a sequence value repeats the key (``partner=AM&partner=RU``).
    headers : extra request headers; this is where a secret belongs.
    data : request body (``POST``).
    secrets : values to redact from any message built from a server response.
    expect : the kind of body required; ``None`` accepts anything non-empty.
    timeout : (connect, read) seconds.
    retries : extra attempts for connection errors, timeouts, cut transfers, HTTP 429 and 5xx.
    backoff : first wait in seconds, doubled at each retry.

    Raises
    ------
    FetchError
        HTTP error status, retries exhausted, empty or truncated body, or a body of the wrong kind.
    """
    shown = redact(shown_url(url, params), secrets)
    send_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    problem = "no attempt made"
    for attempt in range(retries + 1):
        wait = backoff * (2**attempt)
        try:
            log.debug("%s: %s %s (attempt %d)", source, method, shown, attempt + 1)
            resp = session.request(
                method, url, params=params, headers=send_headers, data=data, timeout=timeout
            )
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            problem = "transfer cut short (truncated body)"
        except requests.exceptions.Timeout:
            problem = "timed out"
        except requests.exceptions.ConnectionError:
            problem = "connection failed"
        except requests.RequestException as exc:
            raise FetchError(
                f"{source}: request to {shown} failed ({exc.__class__.__name__})"
            ) from None
        else:
            if resp.status_code in RETRY_STATUS:
                problem = f"HTTP {resp.status_code} {resp.reason or ''}".rstrip()
                after = _retry_after(resp)
                if after is not None:
                    wait = after
            elif resp.status_code >= 400:
                raise FetchError(
                    f"{source}: HTTP {resp.status_code} {resp.reason or ''} from {shown}: "
                    f"{_snippet(resp, secrets)}"
                )
            else:
                _check_body(resp, source, shown, expect, secrets)
                kept = {
                    k: resp.headers[k]
                    for k in ("Last-Modified", "ETag", "Date")
                    if k in resp.headers
                }
                return Download(
                    source=source,
                    url=url,
                    params=dict(params or {}),
                    status=resp.status_code,
                    content=resp.content,
                    content_type=resp.headers.get("Content-Type", ""),
                    headers=kept,
                )
        if attempt < retries:
            wait = min(wait, MAX_WAIT)
            log.warning(
                "%s: %s from %s; retry %d of %d in %.0f s",
                source,
                problem,
                shown,
                attempt + 1,
                retries,
                wait,
            )
            _sleep(wait)
    raise FetchError(f"{source}: {problem} from {shown} after {retries + 1} attempts")


def new_session() -> requests.Session:
    """A fresh session for one fetch (the caller closes it)."""
    return requests.Session()
