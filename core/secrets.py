"""Where Sluice keeps API keys and passwords, and how config.yml points at them.

A secret lives in one of three places (`SecretPlacement`):

* KEYRING — the OS keyring, through the `keyring` library (Secret Service/GNOME Keyring on
  Linux, Keychain on macOS, Credential Manager on Windows). config.yml then holds the
  reference ``keyring:sluice/<name>``: the literal prefix ``keyring:``, the keyring service
  name (always ``sluice`` for what Sluice stores) and the entry name (letters, digits,
  ``.``, ``_``, ``-``, ``@``). Sluice resolves it when it loads the config. Only Sluice
  understands this reference; Elastic's own service would use the text as the key.
* ENV — an environment variable, referenced as ``${SLUICE_ES_API_KEY}`` (Elastic's service
  substitutes the same syntax).
* FILE — the value itself in config.yml, which Sluice then writes with mode 0600. Only with
  the user's explicit consent.

Sluice never picks a weak keyring silently: keyrings.alt's plaintext backend only
base64-encodes, and its encrypted backend asks for a password through getpass (impossible
inside the TUI), so both count as "no keyring" here. Secret values never appear in messages:
`mask` shows none of it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

import keyring
import keyring.errors

SERVICE = "sluice"
#: How every front end shows a secret that is set.
MASK = "********"
REFERENCE_PREFIX = "keyring:"
_NAME = r"[A-Za-z0-9._@-]+"
_REFERENCE = re.compile(rf"keyring:(?P<service>{_NAME})/(?P<name>{_NAME})")

#: Leaf names whose values are secrets wherever they appear in config.yml.
SECRET_FIELD_NAMES = frozenset({"api_key", "password", "bearer_auth"})


class SecretError(Exception):
    """A secret could not be stored or read. The message never contains the secret."""


class SecretStoreError(SecretError):
    """Storing in the OS keyring failed, or there is no usable keyring."""


class SecretResolveError(SecretError):
    """A reference in config.yml could not be turned into its value."""


@dataclass(frozen=True)
class KeyringStatus:
    """Whether Sluice may store secrets in the OS keyring here, and what protects them."""

    available: bool
    backend: str
    explanation: str


class SecretPlacement(enum.Enum):
    KEYRING = "keyring"
    ENV = "env"
    FILE = "file"

    def describe(self) -> str:
        """What protects a secret kept here, said truthfully."""
        return _PLACEMENT_TEXT[self]


_PLACEMENT_TEXT = {
    SecretPlacement.KEYRING: (
        "The secret goes to the OS keyring and config.yml holds only a reference "
        "(keyring:sluice/<name>). The keyring encrypts it at rest; while the keyring is "
        "unlocked, programs running as your user can read it. Only Sluice understands the "
        "reference: Elastic's own service cannot run this config.yml unchanged, and a service "
        "started at boot usually has no unlocked keyring — use an environment variable there."
    ),
    SecretPlacement.ENV: (
        "config.yml holds a reference such as ${SLUICE_ES_API_KEY}; the value must be in the "
        "environment of the process that runs the service (for example a systemd "
        "EnvironmentFile with mode 0600). Anyone who can read that file or the process "
        "environment (your user, root) can read it. Elastic's service understands the same "
        "reference."
    ),
    SecretPlacement.FILE: (
        "The value is written in config.yml in plain text. Sluice makes the file readable by "
        "you only (mode 0600), but root, anything running as your user, and every copy or "
        "backup of the file can read it. Elastic's service reads it as is."
    ),
}


def keyring_status() -> KeyringStatus:
    """Look at the backend `keyring` would use and say whether Sluice may rely on it."""
    backend = _effective_backend()
    module = type(backend).__module__
    name = f"{module}.{type(backend).__name__}"
    if module == "keyring.backends.fail":
        return KeyringStatus(False, name, _NO_KEYRING)
    if module == "keyring.backends.null":
        return KeyringStatus(False, name, _NULL_KEYRING)
    if module.startswith("keyrings.alt"):
        return KeyringStatus(False, name, _alt_text(type(backend).__name__))
    for prefix, text in _KNOWN_BACKENDS:
        if module.startswith(prefix):
            return KeyringStatus(True, name, text)
    return KeyringStatus(
        True,
        name,
        f"Secrets go to the keyring backend {name}. Sluice does not know how that backend "
        "protects them; check its documentation.",
    )


def _effective_backend() -> keyring.backend.KeyringBackend:
    backend = keyring.get_keyring()
    chained = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer" and chained is not None:
        return chained[0] if chained else _fail_backend()
    return backend


def _fail_backend() -> keyring.backend.KeyringBackend:
    from keyring.backends import fail

    return fail.Keyring()


_NO_KEYRING = (
    "No OS keyring is available here: Python's keyring library found no Secret Service on "
    "D-Bus (usual on a headless server or over SSH) and chose its 'fail' backend. Keep the "
    "secret in an environment variable referenced as ${SLUICE_ES_API_KEY} (Elastic's service "
    "understands that too), or — if you accept it — in config.yml itself, which Sluice then "
    "makes readable by you only (mode 0600)."
)
_NULL_KEYRING = (
    "The OS keyring is switched off in keyring's configuration (null backend). Use an "
    "environment variable reference such as ${SLUICE_ES_API_KEY}, or — if you accept it — "
    "the value in config.yml (mode 0600)."
)
_KNOWN_BACKENDS = (
    (
        "keyring.backends.SecretService",
        "Secrets go to the Secret Service of your desktop session (GNOME Keyring, KeePassXC or "
        "KWallet). GNOME Keyring encrypts them on disk with your login password and unlocks "
        "them when you log in; while unlocked, any program running as your user in the "
        "session can read them — there is no per-program access control — and so can root.",
    ),
    (
        "keyring.backends.libsecret",
        "Secrets go to the Secret Service through libsecret (GNOME Keyring or compatible): "
        "encrypted on disk with your login password, readable by any program of your session "
        "while the keyring is unlocked, and by root.",
    ),
    (
        "keyring.backends.kwallet",
        "Secrets go to KDE Wallet: encrypted on disk with the wallet password, readable by "
        "programs of your session while the wallet is open, and by root.",
    ),
    (
        "keyring.backends.macOS",
        "Secrets go to your macOS login Keychain: encrypted with your login password; macOS "
        "asks before another program reads them.",
    ),
    (
        "keyring.backends.Windows",
        "Secrets go to Windows Credential Manager: encrypted with your Windows account "
        "(DPAPI); programs running as you can read them.",
    ),
)


def _alt_text(class_name: str) -> str:
    if "Plaintext" in class_name:
        why = "keyrings.alt's plaintext backend only base64-encodes secrets in a file"
    elif "Encrypted" in class_name:
        why = (
            "keyrings.alt's encrypted backend asks for a password on the terminal (getpass), "
            "which cannot work inside Sluice's screens or a service"
        )
    else:
        why = f"keyrings.alt's {class_name} backend is not one Sluice can vouch for"
    return (
        f"No OS keyring Sluice will use: {why}. Keep the secret in an environment variable "
        "referenced as ${SLUICE_ES_API_KEY}, or — if you accept it — in config.yml (mode 0600)."
    )


def make_reference(name: str, service: str = SERVICE) -> str:
    """`keyring:sluice/<name>` for an entry name."""
    _check_name(name)
    return f"{REFERENCE_PREFIX}{service}/{name}"


def parse_reference(value: str) -> tuple[str, str] | None:
    """`(service, name)` of a keyring reference, or None when `value` is not one."""
    match = _REFERENCE.fullmatch(value.strip()) if isinstance(value, str) else None
    return (match.group("service"), match.group("name")) if match else None


def is_reference(value: object) -> bool:
    """True for a keyring reference or a value that is exactly one `${VAR}` reference."""
    if not isinstance(value, str):
        return False
    from sluice.core.config.envsubst import single_reference  # config imports this module

    return parse_reference(value) is not None or single_reference(value) is not None


def store_secret(name: str, value: str) -> str:
    """Store `value` in the OS keyring under `name` and return the reference for config.yml."""
    _check_name(name)
    if not value:
        raise SecretStoreError(f"nothing to store for `{name}`: the secret is empty")
    status = keyring_status()
    if not status.available:
        raise SecretStoreError(status.explanation)
    try:
        keyring.set_password(SERVICE, name, value)
    except Exception as exc:  # keyring, secretstorage and D-Bus raise many kinds
        raise SecretStoreError(
            f"could not store `{name}` in the OS keyring ({status.backend}): "
            f"{_safe_reason(exc, value)}. Use an environment variable reference instead "
            "(${SLUICE_...}), or the value in config.yml (mode 0600)."
        ) from None
    return make_reference(name)


def read_secret(reference: str) -> str:
    """The value a keyring reference points at."""
    parsed = parse_reference(reference)
    if parsed is None:
        raise SecretResolveError(f"`{reference}` is not a keyring reference")
    service, name = parsed
    status = keyring_status()
    if not status.available:
        raise SecretResolveError(f"cannot read `{reference}`: {status.explanation}")
    try:
        value = keyring.get_password(service, name)
    except Exception as exc:
        raise SecretResolveError(
            f"could not read `{reference}` from the OS keyring ({status.backend}): "
            f"{_safe_reason(exc, None)}"
        ) from None
    if value is None:
        raise SecretResolveError(
            f"the OS keyring has no entry `{name}` for service `{service}` "
            f"(referenced as `{reference}`); store it again or replace the reference"
        )
    return value


def delete_secret(name: str) -> bool:
    """Remove an entry Sluice stored; False when it was not there."""
    _check_name(name)
    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        return False
    except Exception as exc:
        raise SecretStoreError(
            f"could not delete `{name}` from the OS keyring: {_safe_reason(exc, None)}"
        ) from None
    return True


def resolve_reference(value: str, environ: Mapping[str, str] | None = None) -> str:
    """The secret behind `value`: keyring references are read from the keyring, a
    `${VAR}`/`${VAR|default}` reference from `environ`; anything else is returned as is."""
    from sluice.core.config.envsubst import single_reference  # config imports this module

    if parse_reference(value) is not None:
        return read_secret(value)
    reference = single_reference(value) if isinstance(value, str) else None
    if reference is None:
        return value
    name, default = reference
    env = environ if environ is not None else {}
    if name in env:
        return env[name]
    if default is not None:
        return default
    raise SecretResolveError(
        f"environment variable `{name}` is not set; export it before starting Sluice"
    )


def env_var_name(name: str) -> str:
    """The conventional variable for an entry: `es-api-key` → `SLUICE_ES_API_KEY`."""
    return "SLUICE_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()


def env_reference(name: str) -> str:
    """`${SLUICE_ES_API_KEY}` for the entry `es-api-key`."""
    return "${" + env_var_name(name) + "}"


def place_secret(placement: SecretPlacement, name: str, value: str) -> str:
    """What config.yml should hold for a secret: a keyring reference (stored now), an
    `${ENV}` reference, or the value itself (FILE). Raises `SecretError`."""
    if placement is SecretPlacement.KEYRING:
        return store_secret(name, value)
    return planned_reference(placement, name, value)


def planned_reference(placement: SecretPlacement, name: str, value: str) -> str:
    """What `place_secret` would put in config.yml, without storing anything yet."""
    if placement is SecretPlacement.KEYRING:
        return make_reference(name)
    if placement is SecretPlacement.ENV:
        return env_reference(name)
    return value


def mask(secret: str | None) -> str:
    """A set secret shown as `********`: no prefix and no length (both help a guess); an empty
    one as nothing, so "not set" stays visible."""
    return MASK if secret else ""


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not re.fullmatch(_NAME, name):
        raise SecretStoreError(
            f"invalid secret name {name!r}: use letters, digits, '.', '_', '-' or '@'"
        )


def _safe_reason(exc: BaseException, value: str | None) -> str:
    reason = str(exc) or type(exc).__name__
    if value:
        reason = reason.replace(value, mask(value))
    return f"{type(exc).__name__}: {reason}" if str(exc) else reason
