"""MySQL values the generic conversion cannot tell apart: BIT columns.

The driver returns BIT values as bytes, like binary strings. The session wraps them in
`Bits`, which keeps `str()` of the raw bytes (what Elastic's connector puts in an `_id` for
a BIT key) and becomes the column's digits in a document: `BIT(4)` 0b0101 -> "0101", a
string, as Elastic's documents hold a string there too.
"""

from __future__ import annotations

from typing import Any


class Bits(bytes):
    """A BIT value: its bytes, and the column's width in bits."""

    width: int

    def __new__(cls, value: bytes, width: int) -> Bits:
        bits = super().__new__(cls, value)
        bits.width = width
        return bits

    def digits(self) -> str:
        number = int.from_bytes(self, "big")
        width = self.width if self.width > 0 else 8 * len(self)
        return format(number, f"0{width}b")


def mysql_value(value: Any) -> Any:
    """Document value of a MySQL-specific type; NotImplemented for anything else."""
    if isinstance(value, Bits):
        return value.digits()
    return NotImplemented
