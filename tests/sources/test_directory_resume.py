"""The folder walk continues after any place it reached, as a checkpoint asks."""

from __future__ import annotations

from pathlib import Path

from sluice.sources.directory.walker import Selection, walk, walk_key

FILES = [
    "a.txt",
    "b/c.txt",
    "b/d/e.txt",
    "b/f.txt",
    "c.txt",
    "b/d/g/h.txt",
    "z/y.txt",
    "b/d/a.txt",
    "Ä/ü.txt",
]


def make_tree(root: Path) -> None:
    for relative in FILES:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative)


def test_the_walk_order_is_the_order_of_its_keys(tmp_path: Path) -> None:
    make_tree(tmp_path)
    walked = [f.relative for f in walk(str(tmp_path), Selection())]
    assert sorted(walked) == sorted(FILES)
    keys = [walk_key(r) for r in walked]
    assert keys == sorted(keys)


def test_the_walk_continues_right_after_every_place(tmp_path: Path) -> None:
    make_tree(tmp_path)
    walked = [f.relative for f in walk(str(tmp_path), Selection())]
    for n, relative in enumerate(walked):
        rest = [f.relative for f in walk(str(tmp_path), Selection(), after=walk_key(relative))]
        assert rest == walked[n + 1 :], relative


def test_a_place_deleted_since_still_finds_what_follows(tmp_path: Path) -> None:
    make_tree(tmp_path)
    walked = [f.relative for f in walk(str(tmp_path), Selection())]
    rest = [f.relative for f in walk(str(tmp_path), Selection(), after=walk_key("b/d/b.txt"))]
    assert rest == walked[walked.index("b/d/e.txt") :]
