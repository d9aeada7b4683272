"""Long document ids are hashed the way Elastic's service hashes them (MD5 hex of UTF-8)."""

from __future__ import annotations

import hashlib

from sluice.core.engine.ids import MAX_ID_BYTES, normalize_id


def test_short_ids_are_kept() -> None:
    assert normalize_id("docs/readme.md") == "docs/readme.md"
    assert normalize_id(42) == "42"


def test_an_id_of_exactly_512_bytes_is_kept() -> None:
    raw = "é" * (MAX_ID_BYTES // 2)  # two bytes a character
    assert len(raw.encode()) == MAX_ID_BYTES
    assert normalize_id(raw) == raw


def test_longer_ids_become_the_md5_hex_elastic_uses() -> None:
    raw = "dossier/" + "ü" * 300
    expected = hashlib.md5(raw.encode("utf-8")).hexdigest()
    assert normalize_id(raw) == expected
    assert len(expected) == 32
