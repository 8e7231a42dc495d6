"""CSV that RFC 4180 readers and spreadsheets both take safely: every CSV the service writes (the
ProgSnap2 tables, the dashboard's `?format=csv`) goes through here.

- Records end in CRLF (RFC 4180); fields holding a comma, a quote or a line break are quoted.
- Formula injection: a spreadsheet evaluates a cell that starts with `=`, `+`, `-` or `@` (and
  some also after a tab or a carriage return, or the full-width `＝＋－＠`), so a file named
  `=HYPERLINK("http://evil","x").c` could become a live link in a teacher's sheet. Text cells that
  start so are written with a leading `'`, which spreadsheets show as text. A text cell that itself
  starts with `'` gets one more, so the rule is reversible: drop one leading `'` from a text cell
  (`restore`) to get the value back.
- Numbers stay numbers: a value that is an int or float (an exit code of -1, a size) is written
  as is; the rule looks at the value's type, i.e. at the column's type, never at how text looks.
  Likewise a column whose values the service itself formats to a fixed form (ProgSnap2's time
  zone, `+0900`) is written verbatim (`Writer(..., verbatim=...)`): a spreadsheet reads it as data.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable
from typing import IO, Any

ESCAPE = "'"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
LINE_END = "\r\n"


def cell(value: Any) -> str | int | float:
    """One field: numbers unchanged, None empty, anything else as text that cannot be a formula."""
    if type(value) is str:  # the common case first: this runs for every cell of an export
        return ESCAPE + value if value.startswith(_ESCAPED_STARTS) else value
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return neutral_text(str(value))


_ESCAPED_STARTS = (*FORMULA_STARTS, ESCAPE)


def neutral_text(text: str) -> str:
    return ESCAPE + text if text.startswith(_ESCAPED_STARTS) else text


def restore(text: str) -> str:
    """The text a cell was made from (reverses `neutral_text`)."""
    return text[1:] if text.startswith(ESCAPE) else text


class Writer:
    """A CSV writer over a text stream: RFC 4180 records, neutral cells except in the `verbatim`
    columns (by position)."""

    def __init__(self, out: IO[str], verbatim: Collection[int] = ()) -> None:
        self._writer = csv.writer(out, lineterminator=LINE_END)
        self._verbatim = frozenset(verbatim)

    def row(self, values: Iterable[Any]) -> None:
        self._writer.writerow(
            [
                "" if v is None else v if i in self._verbatim else cell(v)
                for i, v in enumerate(values)
            ]
        )

    def rows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.row(values)
