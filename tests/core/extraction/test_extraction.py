"""Text extraction on real generated files, and containment of corrupt, slow and crashing
work inside the worker pool."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sluice.core import extraction
from sluice.core.extraction import (
    ExtractionError,
    ExtractionTimeoutError,
    FileTooLargeError,
    UnsupportedFormatError,
    extract_text,
    supported_extension,
)
from sluice.core.extraction.pool import run_in_pool, worker_pids
from tests.conftest import ROOT
from tests.core.extraction import pool_probes
from tests.data import documents


@pytest.fixture(scope="module", autouse=True)
def stop_pool_after_module():
    yield
    extraction.shutdown()


def test_supported_extensions():
    for name in ("a.pdf", "B.DOCX", "c.xlsx", "d.pptx", "e.html", "f.htm", "g.md", "h.csv",
                 "i.json", "j.txt", ".pdf", "pdf", "dir/k.Markdown"):  # fmt: skip
        assert supported_extension(name), name
    for name in ("a.png", "b.zip", "Makefile", "c.exe", ""):
        assert not supported_extension(name), name


async def test_pdf_pages(tmp_path: Path):
    path = documents.make_pdf(tmp_path / "report.pdf", ["First page about rivers", "Page two"])
    text = await extract_text(path, filename="report.pdf")
    assert "First page about rivers" in text
    assert "Page two" in text


async def test_docx_paragraphs_tables_and_headers(tmp_path: Path):
    path = documents.make_docx(
        tmp_path / "memo.docx",
        ["Quarterly memo", "Sales grew"],
        [["Region", "Total"], ["North", "42"]],
    )
    text = await extract_text(path, filename="memo.docx")
    assert text.splitlines()[:2] == ["Quarterly memo", "Sales grew"]
    assert "Region\tTotal" in text and "North\t42" in text
    assert "Header of the docx" in text


async def test_xlsx_sheets_and_cells(tmp_path: Path):
    path = documents.make_xlsx(
        tmp_path / "book.xlsx",
        {"Budget": [["item", "cost"], ["paper", 12.5]], "Notes": [["hello"]]},
    )
    text = await extract_text(path, filename="book.xlsx")
    assert "Budget" in text and "paper\t12.5" in text
    assert "Notes" in text and "hello" in text


async def test_pptx_slides_and_notes(tmp_path: Path):
    path = documents.make_pptx(
        tmp_path / "deck.pptx", [("Roadmap", "Ship it")], notes="Speak slowly"
    )
    text = await extract_text(path, filename="deck.pptx")
    assert "Roadmap" in text and "Ship it" in text and "Speak slowly" in text


async def test_html_text_without_scripts_and_styles(tmp_path: Path):
    path = documents.make_html(
        tmp_path / "page.html", "Welcome page", "<h1>Title</h1><p>Some <b>bold</b> words</p>"
    )
    text = await extract_text(path, filename="page.html")
    assert text.splitlines() == ["Welcome page", "Title", "Some bold words"]
    assert "secret" not in text and "color" not in text


async def test_html_declared_legacy_charset(tmp_path: Path):
    path = documents.make_html(tmp_path / "old.html", "Café", "<p>Grüße</p>", charset="latin-1")
    text = await extract_text(path, filename="old.html")
    assert "Café" in text and "Grüße" in text


RUSSIAN = (
    "Привет, как дела? Это обычный текст на русском языке. Мы пишем его, чтобы проверить "
    "определение кодировки. В этом файле несколько предложений, и все они о погоде, о книгах "
    "и о работе."
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"plain ascii", "plain ascii"),
        ("Grüße aus Köln, ça va? Très bien, merci beaucoup.".encode("cp1252"), "Grüße"),
        ("utf-16 with bom ✓".encode("utf-16"), "utf-16 with bom ✓"),
        ("\ufeffutf-8 bom".encode(), "utf-8 bom"),
        (RUSSIAN.encode("koi8-r"), "Привет"),
        (RUSSIAN.encode("cp1251"), "обычный текст"),
    ],
)
async def test_text_charset_detection(data: bytes, expected: str):
    text = await extract_text(data, filename="notes.txt")
    assert expected in text


async def test_bytes_input_for_binary_formats(tmp_path: Path):
    path = documents.make_docx(tmp_path / "x.docx", ["from bytes"])
    assert "from bytes" in await extract_text(path.read_bytes(), filename="x.docx")


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("broken.pdf", documents.make_corrupt_pdf),
        ("broken.docx", documents.make_corrupt_zip_office),
        ("broken.xlsx", documents.make_corrupt_zip_office),
        ("broken.pptx", documents.make_corrupt_zip_office),
    ],
)
async def test_corrupt_files_are_one_documents_error(tmp_path: Path, name: str, make):
    path = make(tmp_path / name)
    with pytest.raises(ExtractionError) as info:
        await extract_text(path, filename=name)
    assert info.value.filename == name
    assert "not a readable" in info.value.reason
    # The pool is still healthy afterwards.
    assert await extract_text(b"still fine", filename="ok.txt") == "still fine"


async def test_binary_bytes_named_txt_are_rejected():
    with pytest.raises(ExtractionError, match="binary"):
        await extract_text(os.urandom(4096) + b"\x00\x00\xff\xfe" * 100, filename="blob.txt")


async def test_size_limit(tmp_path: Path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(FileTooLargeError, match="over the"):
        await extract_text(path, filename="big.txt", max_bytes=1024)
    with pytest.raises(FileTooLargeError):
        await extract_text(b"y" * 2048, filename="big.txt", max_bytes=1024)


async def test_unsupported_and_missing_files(tmp_path: Path):
    with pytest.raises(UnsupportedFormatError):
        await extract_text(b"\x89PNG", filename="picture.png")
    with pytest.raises(ExtractionError, match="cannot be opened"):
        await extract_text(tmp_path / "absent.pdf", filename="absent.pdf")


async def test_fifo_is_not_read(tmp_path: Path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ExtractionError, match="not a regular file"):
        await extract_text(fifo, filename="pipe.txt", timeout=5)
    assert time.monotonic() - started < 4


async def test_timeout_kills_the_worker_and_the_pool_recovers():
    with pytest.raises(ExtractionTimeoutError, match=r"longer than 0\.5 s"):
        await run_in_pool(pool_probes.sleep_for, (30,), filename="slow.pdf", timeout=0.5)
    assert await run_in_pool(pool_probes.sleep_for, (0,), filename="x", timeout=5) == "woke up"


async def test_real_extraction_timeout(tmp_path: Path):
    rows = [[f"cell {r} {c}" for c in range(20)] for r in range(3000)]
    path = documents.make_xlsx(tmp_path / "huge.xlsx", {"Data": rows})
    with pytest.raises(ExtractionTimeoutError):
        await extract_text(path, filename="huge.xlsx", timeout=0.05)
    assert "cell 2999 19" in await extract_text(path, filename="huge.xlsx", timeout=60)


async def test_worker_crash_is_contained(tmp_path: Path):
    pid_file = tmp_path / "crashed.pid"
    with pytest.raises(ExtractionError, match="crashed the reader"):
        await run_in_pool(pool_probes.crash, (str(pid_file),), filename="evil.pdf", timeout=10)
    crashed = int(pid_file.read_text())
    assert await extract_text(path_of_pdf(tmp_path), filename="a.pdf") == "after the crash"
    assert crashed not in worker_pids()
    assert worker_pids(), "the pool replaced the crashed worker"


def path_of_pdf(tmp_path: Path) -> Path:
    return documents.make_pdf(tmp_path / "after.pdf", ["after the crash"])


async def test_event_loop_stays_responsive_during_extraction(tmp_path: Path):
    pages = [f"Page {n} " + "lorem ipsum " * 40 for n in range(150)]
    path = documents.make_pdf(tmp_path / "long.pdf", pages)
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    results = await asyncio.gather(*(extract_text(path, filename="long.pdf") for _ in range(4)))
    stop.set()
    await task
    assert all("Page 149" in text for text in results)
    assert max(gaps) < 0.25, f"event loop blocked for {max(gaps):.3f}s"


async def test_shutdown_then_use_again():
    extraction.shutdown()
    extraction.shutdown()  # idempotent
    data = documents_docx_bytes()
    assert "again" in await extract_text(data, filename="again.docx")


def documents_docx_bytes() -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("again")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_extraction_works_when_stderr_has_no_descriptor(tmp_path: Path):
    """Inside a Textual app sys.stderr is a capture object without a file descriptor;
    starting the worker processes there used to fail ("bad value(s) in fds_to_keep").
    A fresh interpreter, so multiprocessing's helper processes are not already running."""
    pdf = documents.make_pdf(tmp_path / "report.pdf", ["water levels are rising"])
    script = (
        "import asyncio, io, sys\n"
        "class Capture(io.StringIO):\n"  # what Textual's print capture answers
        "    def fileno(self): return -1\n"
        "sys.stderr = Capture()\n"
        "from sluice.core.extraction import extract_text, shutdown\n"
        f"text = asyncio.run(extract_text({str(pdf)!r}, filename='report.pdf'))\n"
        "shutdown()\n"
        "print(text)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "water levels are rising" in done.stdout
