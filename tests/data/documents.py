"""Generators for real office/PDF/HTML files with known text, so extraction tests need no
committed binaries. Each `make_*` writes `path` and returns it."""

from __future__ import annotations

from pathlib import Path


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A PDF with one line of text per page (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for text in pages:
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return path


def make_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.sections[0].header.paragraphs[0].text = "Header of the docx"
    document.save(str(path))
    return path


def make_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(str(path))
    return path


def make_pptx(path: Path, slides: list[tuple[str, str]], notes: str = "") -> Path:
    from pptx import Presentation

    presentation = Presentation()
    layout = presentation.slide_layouts[1]  # title and content
    for title, body in slides:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    presentation.save(str(path))
    return path


def make_html(path: Path, title: str, body_html: str, charset: str = "utf-8") -> Path:
    html = (
        f'<!doctype html><html><head><meta charset="{charset}"><title>{title}</title>'
        "<style>body { color: red }</style><script>var secret = 'not text';</script>"
        f"</head><body>{body_html}</body></html>"
    )
    path.write_bytes(html.encode(charset))
    return path


def make_corrupt_pdf(path: Path) -> Path:
    """Starts like a PDF, then garbage: every reader must reject it."""
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF")
    return path


def make_corrupt_zip_office(path: Path) -> Path:
    """A .docx/.xlsx/.pptx name on bytes that are no zip archive."""
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive" * 10)
    return path
