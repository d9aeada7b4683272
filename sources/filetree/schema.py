"""The configuration keys Sluice adds to every file-tree source, after Elastic's keys."""

from __future__ import annotations

from typing import Any

from sluice.core.extraction import DEFAULT_MAX_BYTES

DEFAULT_MAX_FILE_SIZE = DEFAULT_MAX_BYTES


def text_extraction_service_field(order: int) -> dict[str, Any]:
    """Elastic's `use_text_extraction_service` key, kept so records stay interchangeable."""
    return {
        "label": "Use text extraction service",
        "order": order,
        "type": "bool",
        "display": "toggle",
        "value": False,
        "tooltip": "For Elastic's connector service (a separate Text Extraction Service). "
        "Sluice extracts text itself: see 'Extract text from files'.",
        "ui_restrictions": ["advanced"],
    }


def tree_fields(first_order: int) -> dict[str, dict[str, Any]]:
    """Globs, text extraction and its size limit, numbered from `first_order`."""
    return {
        "include_patterns": {
            "label": "Only files matching (globs)",
            "order": first_order,
            "type": "list",
            "display": "textarea",
            "required": False,
            "value": "",
            "tooltip": "Comma-separated globs on the file's path; a glob without / matches "
            "file names at any depth (*.pdf, *.docx). Empty = every file.",
        },
        "exclude_patterns": {
            "label": "Skip files matching (globs)",
            "order": first_order + 1,
            "type": "list",
            "display": "textarea",
            "required": False,
            "value": "",
            "tooltip": "Comma-separated globs to leave out (*.tmp, backups/**).",
        },
        "extract_text": {
            "label": "Extract text from files",
            "order": first_order + 2,
            "type": "bool",
            "display": "toggle",
            "required": False,
            "value": True,
            "default_value": True,
            "tooltip": "Download PDF, Office, HTML and text files and index their text "
            "(extracted on this machine). Off: metadata only, nothing is downloaded.",
        },
        "max_file_size": {
            "label": "Maximum file size for text extraction (bytes)",
            "order": first_order + 3,
            "type": "int",
            "display": "numeric",
            "required": False,
            "value": DEFAULT_MAX_FILE_SIZE,
            "default_value": DEFAULT_MAX_FILE_SIZE,
            "validations": [{"type": "greater_than", "constraint": 0}],
            "tooltip": "Bigger files are indexed without their text and never downloaded "
            "(10485760 = 10 MiB).",
            "ui_restrictions": ["advanced"],
        },
    }
