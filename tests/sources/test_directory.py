"""The `dir` source over a generated tree of real documents, broken files and links."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sluice.core import extraction
from sluice.core.engine.source import SourceFailure
from sluice.sources.directory import DirectorySource, file_id, sample_data_directory
from sluice.sources.errors import ConfigurationError, PathNotFoundError
from tests.data import documents
from tests.sources.items import ERROR as ERROR_FIELD
from tests.sources.items import resolve_all

NON_UTF8_NAME = b"latin1-caf\xe9.txt"


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    (root / "docs").mkdir()
    documents.make_pdf(root / "docs" / "report.pdf", ["Annual report about rivers", "Page two"])
    documents.make_docx(root / "docs" / "memo.docx", ["Memo about bridges"], [["k", "v"]])
    documents.make_xlsx(root / "docs" / "budget.xlsx", {"Costs": [["concrete", 1200]]})
    documents.make_pptx(root / "docs" / "deck.pptx", [("Plan", "Build the dam")])
    (root / "web").mkdir()
    documents.make_html(root / "web" / "index.html", "Home", "<p>Welcome to the lake</p>")
    (root / "notes").mkdir()
    (root / "notes" / "readme.md").write_text("# Notes\n\nMarkdown about canals.\n")
    (root / "notes" / "plain.txt").write_text("plain words")
    (root / "notes" / "data.csv").write_text("a,b\n1,2\n")
    (root / "notes" / "Makefile").write_text("all:\n\techo hi\n")
    (root / "broken").mkdir()
    documents.make_corrupt_pdf(root / "broken" / "corrupt.pdf")
    (root / "données").mkdir()
    (root / "données" / "été – résumé.txt").write_text("Résumé de l'été", encoding="utf-8")
    (root / "日本語.md").write_text("日本語のテキスト", encoding="utf-8")
    Path(os.fsdecode(os.fsencode(root) + b"/" + NON_UTF8_NAME)).write_text("odd name")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "node_modules" / "lib" / "index.js").write_text("x")
    (root / "big.txt").write_text("z" * 200_000)
    os.mkfifo(root / "pipe.txt")
    links = root / "links"
    links.mkdir()
    (links / "up").symlink_to("..")  # a loop back to the root
    (links / "self").symlink_to("self")  # a link to itself
    (links / "dangling.txt").symlink_to("/nonexistent/target.txt")
    (links / "to_notes").symlink_to("../notes")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "external.txt").write_text("outside the tree")
    (links / "outside").symlink_to(outside)
    return root


async def collect(configuration: dict[str, Any]) -> dict[str, dict[str, Any]]:
    by_path, failures = await collect_with_failures(configuration)
    assert not failures, failures
    return by_path


async def collect_with_failures(
    configuration: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Documents by relative path, and the records of what could not be read (folders)."""
    source = DirectorySource(configuration)
    try:
        yielded = await resolve_all(source.get_docs())
    finally:
        await source.close()
    failures = [doc for doc in yielded if isinstance(doc, SourceFailure)]
    docs = [doc for doc in yielded if not isinstance(doc, SourceFailure)]
    by_path = {doc["relative_path"]: doc for doc in docs}
    assert len(by_path) == len(docs), "one document per file"
    return by_path, failures


async def test_documents_of_the_tree(tree: Path):
    docs = await collect({"directory": str(tree), "max_file_size": 100_000})
    odd_name = (
        os.fsdecode(NON_UTF8_NAME).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    )
    assert set(docs) == {
        "docs/report.pdf",
        "docs/memo.docx",
        "docs/budget.xlsx",
        "docs/deck.pptx",
        "web/index.html",
        "notes/readme.md",
        "notes/plain.txt",
        "notes/data.csv",
        "notes/Makefile",
        "broken/corrupt.pdf",
        "données/été – résumé.txt",
        "日本語.md",
        odd_name,
        "image.png",
        ".git/config",
        "node_modules/lib/index.js",
        "big.txt",
    }  # fmt: skip  (no FIFO, no links: links are not followed by default)
    bodies = {path: doc.get("body") for path, doc in docs.items()}
    assert "Annual report about rivers" in bodies["docs/report.pdf"]
    assert "Memo about bridges" in bodies["docs/memo.docx"]
    assert "concrete\t1200" in bodies["docs/budget.xlsx"]
    assert "Build the dam" in bodies["docs/deck.pptx"]
    assert "Welcome to the lake" in bodies["web/index.html"]
    assert "Markdown about canals." in bodies["notes/readme.md"]
    assert bodies["données/été – résumé.txt"] == "Résumé de l'été"
    assert bodies["日本語.md"] == "日本語のテキスト"
    assert bodies[odd_name] == "odd name"
    assert bodies["image.png"] is None and bodies["notes/Makefile"] is None
    assert bodies["big.txt"] is None  # over max_file_size: metadata only, not an error
    assert ERROR_FIELD not in docs["big.txt"]


async def test_document_metadata(tree: Path):
    docs = await collect({"directory": str(tree)})
    doc = docs["docs/report.pdf"]
    info = (tree / "docs" / "report.pdf").stat()
    assert doc["_id"] == file_id(str(tree / "docs" / "report.pdf"))
    assert doc["path"] == str(tree / "docs" / "report.pdf")
    assert doc["name"] == "report.pdf" and doc["extension"] == "pdf"
    assert doc["mime_type"] == "application/pdf"
    assert doc["size"] == info.st_size
    modified = datetime.fromtimestamp(info.st_mtime, tz=UTC).isoformat()
    assert doc["_timestamp"] == doc["last_modified_time"] == modified
    assert doc["ctime"] == info.st_ctime and isinstance(doc["last_access_time"], float)
    assert doc["owner"] == "root" and doc["uid"] == 0
    assert doc["mode"] == "0644"
    assert len({d["_id"] for d in docs.values()}) == len(docs)
    json.dumps(list(docs.values()))  # every value is JSON-safe, odd file names included


async def test_corrupt_file_is_a_document_with_an_error(tree: Path):
    doc = (await collect({"directory": str(tree)}))["broken/corrupt.pdf"]
    assert "body" not in doc
    assert "broken/corrupt.pdf: is not a readable PDF file" in doc[ERROR_FIELD]
    assert doc["size"] > 0 and doc["_id"] == file_id(str(tree / "broken" / "corrupt.pdf"))


async def test_following_symlinks_survives_loops(tree: Path):
    docs = await asyncio.wait_for(
        collect(
            {
                "directory": str(tree),
                "follow_symlinks": True,
                "exclude_patterns": ".git,node_modules",
            }
        ),
        timeout=60,
    )
    # A linked folder is read; a folder reached twice (a link to an ancestor or to a folder
    # of the tree) is read once.
    assert docs["links/outside/external.txt"]["body"] == "outside the tree"
    assert not any(path.startswith(("links/up/", "links/to_notes/")) for path in docs)
    assert "notes/readme.md" in docs
    assert (
        "broken symbolic link (points to /nonexistent/target.txt)"
        in docs["links/dangling.txt"][ERROR_FIELD]
    )
    assert "Too many levels of symbolic links" in docs["links/self"][ERROR_FIELD]


async def test_include_and_exclude_patterns(tree: Path):
    docs = await collect(
        {"directory": str(tree), "include_patterns": "*.pdf, *.docx", "exclude_patterns": "broken"}
    )
    assert set(docs) == {"docs/report.pdf", "docs/memo.docx"}
    docs = await collect(
        {"directory": str(tree), "exclude_patterns": ".git, node_modules/**, *.csv"}
    )
    assert ".git/config" not in docs and "node_modules/lib/index.js" not in docs
    assert "notes/data.csv" not in docs and "notes/plain.txt" in docs


async def test_elastic_default_pattern(tree: Path):
    docs = await collect({"directory": str(tree), "pattern": "**/*.*"})
    assert "notes/Makefile" not in docs and "notes/readme.md" in docs
    docs = await collect({"directory": str(tree), "pattern": "docs/*.pdf"})
    assert set(docs) == {"docs/report.pdf"}


async def test_text_extraction_can_be_turned_off(tree: Path):
    docs = await collect({"directory": str(tree), "extract_text": False, "pattern": "docs/*"})
    assert all("body" not in doc for doc in docs.values())


async def test_ids_stable_and_timestamps_follow_changes(tmp_path: Path):
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "b.txt").write_text("two")
    first = await collect({"directory": str(tmp_path)})
    os.utime(tmp_path / "b.txt", (1_700_000_000, 1_700_000_000))
    (tmp_path / "a.txt").rename(tmp_path / "c.txt")
    second = await collect({"directory": str(tmp_path)})
    assert second["b.txt"]["_id"] == first["b.txt"]["_id"]
    assert second["b.txt"]["_timestamp"] == "2023-11-14T22:13:20+00:00"
    assert second["c.txt"]["_id"] != first["a.txt"]["_id"]


async def test_missing_directory_is_a_clear_error(tmp_path: Path):
    source = DirectorySource({"directory": str(tmp_path / "nope")})
    with pytest.raises(PathNotFoundError, match="does not exist"):
        await source.ping()
    with pytest.raises(ConfigurationError) as info:
        await source.validate_config()
    assert "'Directory path'" in info.value.field_errors["directory"]
    with pytest.raises(PathNotFoundError):
        [doc async for doc in source.get_docs()]
    file_path = tmp_path / "file.txt"
    file_path.write_text("x")
    with pytest.raises(PathNotFoundError, match="is a file, not a folder"):
        await DirectorySource({"directory": str(file_path)}).ping()


async def test_local_validation(tmp_path: Path):
    with pytest.raises(ConfigurationError) as info:
        await DirectorySource(
            {"directory": "", "pattern": "/etc/*", "max_file_size": 0}
        ).validate_config()
    errors = info.value.field_errors
    assert errors["directory"] == "'Directory path' is required."
    assert "must be relative" in errors["pattern"]
    assert "must be greater than 0" in errors["max_file_size"]


async def test_sample_data_folder():
    folder = sample_data_directory()
    assert folder is not None
    docs = await collect({"directory": str(folder)})
    assert len(docs) >= 5
    assert all(ERROR_FIELD not in doc for doc in docs.values())
    assert all(doc.get("body") for doc in docs.values())


def test_unreadable_file_as_an_unprivileged_user():
    """root reads everything, so the check runs in a child process switched to `nobody`."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to the nobody user")
    import pwd

    nobody = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="sluice-unreadable-"))
    try:
        root.chmod(0o755)
        (root / "open.txt").write_text("anyone can read this")
        (root / "locked.txt").write_text("secret")
        (root / "locked.txt").chmod(0o000)
        (root / "closed").mkdir()
        (root / "closed" / "hidden.txt").write_text("x")
        (root / "closed").chmod(0o000)
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            os.close(read_end)
            try:
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
                warnings: list[str] = []
                handler = logging.Handler(logging.WARNING)
                handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
                logging.getLogger("sluice").addHandler(handler)
                docs, failures = asyncio.run(collect_with_failures({"directory": str(root)}))
                counted = asyncio.run(DirectorySource({"directory": str(root)}).count_documents())
                payload = json.dumps(
                    {"docs": docs, "failures": failures, "count": counted, "log": warnings},
                    default=dataclasses.asdict,  # the failure's Scope
                ).encode()
            except BaseException as exc:
                payload = json.dumps({"crash": repr(exc)}).encode()
            os.write(write_end, payload)
            os._exit(0)
        os.close(write_end)
        chunks = []
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
        os.close(read_end)
        os.waitpid(child, 0)
        seen = json.loads(b"".join(chunks))
    finally:
        (root / "closed").chmod(0o755)
        shutil.rmtree(root)
    assert "crash" not in seen, seen
    docs = seen["docs"]
    assert set(docs) == {"open.txt", "locked.txt"}
    assert seen["count"] == 2
    # the closed folder is a failure for the job (by its path), and logged once, not per walk
    (failure,) = seen["failures"]
    assert failure["name"] == str(root / "closed") and failure["operation"] == "list"
    assert failure["reason"].startswith("cannot list this folder (Permission denied)")
    # scoped to the folder's files, so a full sync keeps their documents (see the engine)
    assert failure["scope"] == {"field": "relative_path", "value": "closed/", "prefix": True}
    assert "grant user nobody read and execute permission" in failure["reason"]
    assert [line for line in seen["log"] if "Cannot list" in line] == [
        f"Cannot list {root / 'closed'} (Permission denied); its files are left out."
    ]
    assert docs["open.txt"]["body"] == "anyone can read this"
    assert docs["locked.txt"][ERROR_FIELD] == "locked.txt: cannot be opened: Permission denied"
    assert docs["locked.txt"]["size"] == 6 and "body" not in docs["locked.txt"]


async def test_attachment_pipeline_mode_sends_the_bytes(tmp_path: Path):
    pdf = documents.make_pdf(tmp_path / "report.pdf", ["for the cluster to read"])
    source = DirectorySource({"directory": str(tmp_path), "use_attachment_pipeline": True})
    docs = await resolve_all(source.get_docs())
    await source.close()
    (doc,) = docs
    assert base64.b64decode(doc["_attachment"]) == pdf.read_bytes()
    assert "body" not in doc and ERROR_FIELD not in doc


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("pattern", "docs/[abc", "'docs/[abc' has an unclosed '[' (character 6)"),
        ("include_patterns", "*.pdf, [abc", "'[abc' has an unclosed '['"),
        ("exclude_patterns", "*.{tmp,bak}", "'*.{tmp' has an unclosed '{'"),
    ],
)
async def test_unclosed_glob_is_refused_naming_the_pattern_and_the_fix(
    tmp_path: Path, key: str, value: str, shown: str
):
    with pytest.raises(ConfigurationError) as info:
        await DirectorySource({"directory": str(tmp_path), key: value}).validate_config()
    message = info.value.field_errors[key]
    assert shown in message
    assert "literal" in message  # how to fix it
    if key == "exclude_patterns":  # a list splits on ',': say so, with the way that works
        assert "write *.pdf, *.docx rather than *.{pdf,docx}" in message


async def test_unclosed_brace_in_the_pattern_is_refused(tmp_path: Path):
    with pytest.raises(ConfigurationError) as info:
        await DirectorySource(
            {"directory": str(tmp_path), "pattern": "*.{md,txt"}
        ).validate_config()
    assert "unclosed '{' (character 3): close it with '}'" in info.value.field_errors["pattern"]


@pytest.mark.parametrize("pattern", ["**/*.[ch]", "[]]*", "[!]]*", "[[]draft]*", "*.{pdf,docx}"])
async def test_well_formed_globs_pass(tmp_path: Path, pattern: str):
    await DirectorySource({"directory": str(tmp_path), "pattern": pattern}).validate_config()


async def test_a_long_pattern_is_echoed_cut_short(tmp_path: Path):
    pattern = "[" + "a" * 3000
    with pytest.raises(ConfigurationError) as info:
        await DirectorySource({"directory": str(tmp_path), "pattern": pattern}).validate_config()
    message = info.value.field_errors["pattern"]
    assert "…" in message and len(message) < 300
