"""Would the HTTP stack accept this Elasticsearch address? Checked before connecting, so a
host typed with full-width digits (U+FF11 for 1..., from an East Asian input method) or a port
in other scripts gets a message with the fix instead of "Could not parse URL".

The config checks and the client share this; it imports neither (cheap to import)."""

from __future__ import annotations

import unicodedata
from urllib.parse import SplitResult, urlsplit


def address_problem(url: str) -> str | None:
    """What is wrong with the host or port of `url` (already known to have an http(s)
    scheme and a host), or None. Internationalised (IDNA) host names are fine."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # "Invalid IPv6 URL", a bracketed host that is no address
        return f"is not a valid URL ({exc})"
    port = _port_text(parts)
    if port and not (port.isascii() and port.isdigit()):
        if all(unicodedata.digit(c, None) is not None for c in port):
            plain = "".join(str(unicodedata.digit(c)) for c in port)
            return f"has an invalid port {port!r}, not in ASCII digits; type it as {plain}"
        return f"has an invalid port {port!r}; use a number like 9200"
    if port and not 0 < int(port) <= 65535:
        return f"has an invalid port {port}; use one between 1 and 65535"
    host = parts.hostname or ""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url  # what elastic-transport reads the address with

    try:
        parse_url(url.strip())
    except LocationParseError:
        plain = unicodedata.normalize("NFKC", host)
        if plain != host and plain.isascii():
            return (
                f"has full-width or look-alike characters in the host {host!r}; type it as {plain}"
            )
        return f"has an invalid host name {host!r}"
    return None


def _port_text(parts: SplitResult) -> str:
    """The port as written, '' when none (`SplitResult.port` raises for a bad one)."""
    netloc = parts.netloc.rpartition("@")[2]
    if netloc.startswith("["):  # [IPv6]:port
        _, _, rest = netloc.partition("]")
        return rest[1:] if rest.startswith(":") else ""
    _, colon, port = netloc.rpartition(":")
    return port if colon else ""
