"""core.secrets against a real Secret Service (gnome-keyring on a private D-Bus) and against
keyring's `fail` backend (a headless server)."""

from __future__ import annotations

import keyring
import pytest
import secretstorage

from sluice.core.secrets import (
    SecretPlacement,
    SecretResolveError,
    SecretStoreError,
    delete_secret,
    env_reference,
    env_var_name,
    is_reference,
    keyring_status,
    make_reference,
    mask,
    parse_reference,
    read_secret,
    resolve_reference,
    store_secret,
)

API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


def test_store_and_read_back_through_secret_service(secret_service):
    reference = store_secret("es-api-key", API_KEY)

    assert reference == "keyring:sluice/es-api-key"
    assert read_secret(reference) == API_KEY
    assert resolve_reference(reference, {}) == API_KEY


def test_secret_really_lives_in_the_gnome_keyring_login_collection(secret_service):
    store_secret("es-password", "hunter2-but-longer")

    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        assert collection.get_label() == "Login"
        items = list(collection.search_items({"service": "sluice", "username": "es-password"}))
        assert [item.get_secret() for item in items] == [b"hunter2-but-longer"]
    finally:
        connection.close()


def test_storing_again_replaces_and_delete_removes(secret_service):
    store_secret("connector-abc-api-key", "first-value-123")
    store_secret("connector-abc-api-key", "second-value-456")
    assert read_secret("keyring:sluice/connector-abc-api-key") == "second-value-456"

    assert delete_secret("connector-abc-api-key") is True
    assert delete_secret("connector-abc-api-key") is False
    with pytest.raises(SecretResolveError, match="has no entry `connector-abc-api-key`"):
        read_secret("keyring:sluice/connector-abc-api-key")


def test_status_with_secret_service_is_available_and_truthful(secret_service):
    status = keyring_status()

    assert status.available is True
    assert status.backend == "keyring.backends.SecretService.Keyring"
    assert "no per-program access control" in status.explanation
    assert "login password" in status.explanation


def test_no_backend_is_said_plainly_with_alternatives(no_keyring):
    status = keyring_status()
    assert status.available is False
    assert status.backend == "keyring.backends.fail.Keyring"
    assert "No OS keyring is available" in status.explanation
    assert "${SLUICE_ES_API_KEY}" in status.explanation
    assert "0600" in status.explanation

    with pytest.raises(SecretStoreError) as caught:
        store_secret("es-api-key", API_KEY)
    assert "No OS keyring is available" in str(caught.value)
    assert API_KEY not in str(caught.value)


def test_reading_a_reference_without_backend_fails_clearly(no_keyring):
    with pytest.raises(SecretResolveError, match="cannot read `keyring:sluice/es-api-key`"):
        read_secret("keyring:sluice/es-api-key")


class _FakePlaintextKeyring(keyring.backend.KeyringBackend):
    """Stands in for keyrings.alt's PlaintextKeyring (not installed here): only its module
    and class name matter to `keyring_status`."""

    priority = 1

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        raise AssertionError("Sluice must not store into a plaintext keyring")

    def delete_password(self, service, username):
        return None


_FakePlaintextKeyring.__module__ = "keyrings.alt.file"
_FakePlaintextKeyring.__name__ = "PlaintextKeyring"


@pytest.mark.parametrize(
    ("class_name", "reason"),
    [("PlaintextKeyring", "only base64-encodes"), ("EncryptedKeyring", "getpass")],
)
def test_keyrings_alt_backends_are_never_used_silently(class_name, reason):
    backend_class = type(class_name, (_FakePlaintextKeyring,), {"__module__": "keyrings.alt.file"})
    previous = keyring.get_keyring()
    keyring.set_keyring(backend_class())
    try:
        status = keyring_status()
        assert status.available is False
        assert reason in status.explanation
        with pytest.raises(SecretStoreError, match=reason):
            store_secret("es-api-key", API_KEY)
    finally:
        keyring.set_keyring(previous)


def test_references_are_recognised():
    assert is_reference("keyring:sluice/es-api-key")
    assert is_reference("${SLUICE_ES_API_KEY}")
    assert is_reference("${SLUICE_ES_API_KEY|fallback}")
    assert is_reference("$SLUICE_ES_API_KEY")
    assert not is_reference(API_KEY)
    assert not is_reference("prefix-${X}")
    assert not is_reference("keyring:")
    assert not is_reference(None)
    assert parse_reference("keyring:sluice/a.b_c-d") == ("sluice", "a.b_c-d")
    assert make_reference("es-api-key") == "keyring:sluice/es-api-key"


def test_env_references_resolve_from_the_given_environment():
    assert resolve_reference("${SLUICE_ES_API_KEY}", {"SLUICE_ES_API_KEY": "k1"}) == "k1"
    assert resolve_reference("${SLUICE_ES_API_KEY|dflt}", {}) == "dflt"
    assert resolve_reference("plain-value", {}) == "plain-value"
    with pytest.raises(SecretResolveError, match="`SLUICE_ES_API_KEY` is not set"):
        resolve_reference("${SLUICE_ES_API_KEY}", {})


def test_env_names_follow_the_entry_name():
    assert env_var_name("es-api-key") == "SLUICE_ES_API_KEY"
    assert env_reference("connector-x1.api_key") == "${SLUICE_CONNECTOR_X1_API_KEY}"


def test_invalid_names_are_refused_without_touching_the_keyring():
    with pytest.raises(SecretStoreError, match="invalid secret name"):
        store_secret("has space", "value")
    with pytest.raises(SecretStoreError, match="invalid secret name"):
        store_secret("a/b", "value")


def test_mask_keeps_only_a_short_prefix():
    assert mask(API_KEY) == "********"
    assert mask("12345678") == "********"
    assert mask("abc") == "********"  # neither a prefix nor the length
    assert mask("") == ""
    assert mask(None) == ""


def test_placements_describe_what_protects_the_secret():
    keyring_text = SecretPlacement.KEYRING.describe()
    assert "OS keyring" in keyring_text and "Only Sluice understands" in keyring_text
    env_text = SecretPlacement.ENV.describe()
    assert "environment" in env_text and "Elastic's service understands" in env_text
    file_text = SecretPlacement.FILE.describe()
    assert "plain text" in file_text and "0600" in file_text
