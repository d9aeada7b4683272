"""Saving config.yml: atomic, with a .bak, and 0600 when a secret is in clear."""

from __future__ import annotations

import os
import stat

import pytest

from sluice.core.config import ConfigDocument, ConfigError, load_config

ORIGINAL = """\
# my config
elasticsearch.host: https://es.example:9200
elasticsearch.api_key: ${SLUICE_ES_API_KEY}
connectors:
  - connector_id: abc
    service_type: mysql
"""


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_save_writes_render_and_keeps_a_backup(write):
    path = write(ORIGINAL)
    os.chmod(path, 0o644)
    document = ConfigDocument.open(path)
    document.upsert_connector("def", "dir")

    expected = document.render()
    assert document.save() == path
    assert path.read_text() == expected
    assert (path.parent / "config.yml.bak").read_text() == ORIGINAL
    assert mode(path) == 0o644  # references only: the mode is kept
    assert document.changed is False
    assert document.diff() == ""
    assert [
        c["connector_id"] for c in load_config(path, environ={"SLUICE_ES_API_KEY": "k"}).connectors
    ] == ["abc", "def"]


def test_second_save_backs_up_the_first(write):
    path = write(ORIGINAL)
    document = ConfigDocument.open(path)
    document.set("service.idling", 10)
    first = document.render()
    document.save()
    document.set("service.idling", 20)
    document.save()
    assert (path.parent / "config.yml.bak").read_text() == first
    assert "service.idling: 20" in path.read_text()


def test_plaintext_secret_makes_the_file_0600(write):
    path = write(ORIGINAL)
    os.chmod(path, 0o644)
    document = ConfigDocument.open(path)
    document.upsert_connector("def", "dir", api_key="cGxhaW4tdGV4dC1rZXk=")
    document.save()

    assert mode(path) == 0o600
    assert mode(path.parent / "config.yml.bak") == 0o600


def test_new_file_with_secret_is_created_0600(tmp_path):
    path = tmp_path / "sub" / "config.yml"
    document = ConfigDocument.open(path)
    assert document.render() == ""
    document.set("elasticsearch.password", "s3cret-value")
    document.save()

    assert mode(path) == 0o600
    assert not (path.parent / "config.yml.bak").exists()


def test_new_file_without_secret_follows_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        document = ConfigDocument.open(tmp_path / "config.yml")
        document.set("elasticsearch.host", "http://localhost:9200")
        assert mode(document.save()) == 0o644
    finally:
        os.umask(previous)


def test_failing_serializer_leaves_the_file_untouched(write, monkeypatch):
    path = write(ORIGINAL)
    document = ConfigDocument.open(path)
    document.upsert_connector("def", "dir")
    real_dump = document._yaml.dump

    def half_then_fail(data, stream):
        real_dump(data, stream)
        stream.flush()
        raise RuntimeError("serializer crashed")

    monkeypatch.setattr(document._yaml, "dump", half_then_fail)
    with pytest.raises(RuntimeError, match="serializer crashed"):
        document.save()

    assert path.read_text() == ORIGINAL
    assert not (path.parent / "config.yml.bak").exists()
    assert leftovers(path.parent) == []


def test_output_that_is_not_yaml_is_refused(write, monkeypatch):
    path = write(ORIGINAL)
    document = ConfigDocument.open(path)
    monkeypatch.setattr(document._yaml, "dump", lambda data, stream: stream.write("a: [\n"))

    with pytest.raises(ConfigError, match="refusing to write invalid YAML"):
        document.save()
    assert path.read_text() == ORIGINAL
    assert leftovers(path.parent) == []


def test_unwritable_location_is_a_config_error(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    document = ConfigDocument("", blocker / "config.yml")
    document.set("service.idling", 3)

    with pytest.raises(ConfigError, match="could not be saved"):
        document.save()


def test_save_follows_a_symlink(write, tmp_path):
    real = write(ORIGINAL, "real.yml")
    link = tmp_path / "config.yml"
    link.symlink_to(real)
    document = ConfigDocument.open(link)
    document.set("service.idling", 7)

    assert document.save() == real
    assert link.is_symlink()
    assert "service.idling: 7" in real.read_text()


def test_document_without_path_cannot_be_saved():
    with pytest.raises(ConfigError, match="no file path"):
        ConfigDocument("a: 1\n").save()


@pytest.mark.parametrize(
    ("key", "secret", "reference"),
    [
        ("elasticsearch.api_key", "Q0FOQVJZLWVzLWFwaS1rZXk=", "${SLUICE_ES_API_KEY}"),
        ("elasticsearch.password", "canary-pässwörd🔑", "keyring:sluice/es-password"),
        ("elasticsearch.bearer_auth", "canary.bearer.token", "${SLUICE_ES_TOKEN}"),
    ],
)
def test_backup_never_keeps_a_secret_moved_out_of_the_file(write, key, secret, reference):
    """Secret in the file (with consent), then moved to a reference: neither config.yml nor
    config.yml.bak may still hold it."""
    path = write(ORIGINAL)
    document = ConfigDocument.open(path)
    document.set(key, secret)
    document.save()
    assert secret in path.read_text(encoding="utf-8")

    document = ConfigDocument.open(path)
    document.set(key, reference)
    document.save()

    backup = path.parent / "config.yml.bak"
    assert secret not in path.read_text(encoding="utf-8")
    assert secret not in backup.read_text(encoding="utf-8")
    assert reference in path.read_text(encoding="utf-8")
    # The rest of the previous version is still there to restore.
    assert "# my config" in backup.read_text(encoding="utf-8")


def test_backup_keeps_a_secret_that_stays_in_the_file(write):
    path = write(ORIGINAL)
    document = ConfigDocument.open(path)
    document.set("elasticsearch.password", "kept-in-the-file")
    document.save()
    document.set("service.idling", 5)
    document.save()
    assert "kept-in-the-file" in (path.parent / "config.yml.bak").read_text()
