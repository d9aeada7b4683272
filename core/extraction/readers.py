"""One reader per format: bytes in, text out.

These run inside worker processes (see `pool.py`): the parsing libraries are C code or
heavy pure Python, so a corrupt file may hang, exhaust memory or crash the interpreter —
which must cost one worker, never the sync.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

from sluice.core.extraction import formats
from sluice.core.extraction.text import decode_bytes, tidy

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_BLOCK_TAGS = (
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section table td th tr ul title"
)
_HTML_BLOCKS = frozenset(_BLOCK_TAGS.split())
_HTML_DROPPED = ["script", "style", "noscript", "template", "svg", "head"]


def read_text(data: bytes) -> str:
    return tidy(decode_bytes(data))


def read_html(data: bytes) -> str:
    from selectolax.lexbor import LexborHTMLParser

    match = _META_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii", "ignore") if match else None
    tree = LexborHTMLParser(decode_bytes(data, declared))
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node is not None else ""
    tree.strip_tags(_HTML_DROPPED)
    root = tree.body or tree.root
    parts: list[str] = [title] if title else []
    if root is not None:
        # A newline before each block element keeps paragraphs apart; inline elements
        # (<b>, <a>, <span>) stay within their line.
        for node in root.traverse(include_text=True):
            if node.tag == "-text":
                parts.append(node.text_content or "")
            elif node.tag in _HTML_BLOCKS:
                parts.append("\n")
    return tidy(re.sub(r"[ \t]+", " ", "".join(parts)))


def read_pdf(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                pages.append(textpage.get_text_bounded())
            finally:
                textpage.close()
                page.close()
        return tidy("\n\n".join(pages))
    finally:
        pdf.close()


def read_docx(data: bytes) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            lines.extend(_table_rows(block))
    seen: set[str] = set()
    for section in document.sections:
        for part in (section.header, section.footer):
            text = "\n".join(p.text for p in part.paragraphs).strip()
            if text and text not in seen:
                seen.add(text)
                lines.append(text)
    return tidy("\n".join(lines))


def _table_rows(table: Any) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            # Merged cells repeat the same cell object along the row.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            yield "\t".join(cells)


def read_xlsx(data: bytes) -> str:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        lines: list[str] = []
        for sheet in workbook.worksheets:
            lines.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                cells = [str(value) for value in row if value is not None and value != ""]
                if cells:
                    lines.append("\t".join(cells))
            lines.append("")
        return tidy("\n".join(lines))
    finally:
        workbook.close()


def read_pptx(data: bytes) -> str:
    from pptx import Presentation

    presentation = Presentation(io.BytesIO(data))
    lines: list[str] = []
    for slide in presentation.slides:
        for shape in _shapes(slide.shapes):
            if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                lines.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                lines.extend(_table_rows(shape.table))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            lines.append(slide.notes_slide.notes_text_frame.text)
        lines.append("")
    return tidy("\n".join(lines))


def _shapes(shapes: Any) -> Iterator[Any]:
    """Every shape, descending into groups."""
    for shape in shapes:
        if hasattr(shape, "shapes"):
            yield from _shapes(shape.shapes)
        else:
            yield shape


READERS: dict[str, Callable[[bytes], str]] = {
    formats.TEXT: read_text,
    formats.HTML: read_html,
    formats.PDF: read_pdf,
    formats.DOCX: read_docx,
    formats.XLSX: read_xlsx,
    formats.PPTX: read_pptx,
}
