"""Document ids of rows, the way Elastic's database connectors build them.

`<prefix><sorted tables joined by _>_<key values joined by _>`; a key value that is None
is left out, as Elastic does. Rows without any key column get a hash of the whole row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def row_id(
    tables: Sequence[str],
    row: Mapping[str, Any],
    key_columns: Sequence[str],
    text: Callable[[Any], str] = str,
) -> str:
    """`text(value)` writes each key value (the driver's value, before conversion)."""
    values = "_".join(text(value) for key in key_columns if (value := row.get(key)) is not None)
    return f"{'_'.join(sorted(tables))}_{values}"


def row_hash_id(tables: Sequence[str], converted_row: Mapping[str, Any]) -> str:
    """Id of a row of a table without a primary key: a hash of all its (converted) values.

    Consequences, documented for users: an update changes the id (the next full sync
    indexes the new row and deletes the old document), and identical rows collapse into
    one document.
    """
    canonical = json.dumps(converted_row, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
    return f"{'_'.join(sorted(tables))}_row_{digest}"
