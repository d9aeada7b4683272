"""TLS contexts for database connections from the `ssl_ca` setting."""

from __future__ import annotations

import os
import re
import ssl

from sluice.sources.errors import ConfigurationError

_PEM_MARKER = "-----BEGIN CERTIFICATE-----"


def client_context(ssl_ca: str | None, *, label: str = "SSL certificate") -> ssl.SSLContext:
    """A verifying client context (certificate chain and host name).

    `ssl_ca` is the PEM text of the CA certificate(s) (what Kibana stores), a path to a PEM
    file, or empty for the system trust store.
    """
    context = ssl.create_default_context()
    value = (ssl_ca or "").strip()
    if not value:
        return context
    try:
        if _PEM_MARKER in value:
            context.load_verify_locations(cadata=_normalise_pem(value))
        elif os.path.isfile(value):
            context.load_verify_locations(cafile=value)
        else:
            raise ConfigurationError(
                {
                    "ssl_ca": f"'{label}' must be the PEM text of the CA certificate "
                    "(-----BEGIN CERTIFICATE----- ...) or the path of a PEM file on this "
                    "machine."
                }
            )
    except ssl.SSLError as exc:
        raise ConfigurationError(
            {"ssl_ca": f"'{label}' is not a valid PEM CA certificate ({exc.reason or exc})."}
        ) from None
    return context


def _normalise_pem(text: str) -> str:
    """Kibana's single-line inputs turn newlines into spaces: rebuild each PEM block."""
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
    return "".join(
        f"{_PEM_MARKER}\n" + "\n".join(body.split()) + "\n-----END CERTIFICATE-----\n"
        for body in blocks
    )
