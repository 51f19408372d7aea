"""A CSV tabular output whose header grows when new keys appear (viskit reads the result)."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from typing import Any


class CsvOutput:
    """Appends one row per ``write_row`` call to a CSV file, e.g. ``progress.csv``.

    The header is the union of all keys seen so far, in order of first appearance. When a row
    brings a key that is not in the header, the file is rewritten (to a temporary file, then
    ``os.replace``) with the extended header and empty cells for the earlier rows. Keys missing
    from a row get empty cells. The file is opened and closed for every row, so nothing logged is
    lost if the process dies. If the file already exists (e.g. when resuming into a run
    directory), its header is adopted and new rows are appended.

    Args:
        path: file to write; parent directories are created.
    """

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.header: list[str] = self._read_header()

    def _read_header(self) -> list[str]:
        if not os.path.exists(self.path) or os.path.getsize(self.path) == 0:
            return []
        with open(self.path, newline="") as f:
            return next(csv.reader(f), [])

    def write_row(self, row: Mapping[str, Any]) -> None:
        """Append ``row``, first extending the header if ``row`` has new keys.

        Args:
            row: mapping from column name to value; values are written with ``str``.
        """
        # Re-read the header each time: another CsvOutput may have grown the same file.
        self.header = self._read_header()
        new_keys = [key for key in row if key not in self.header]
        if new_keys:
            self._rewrite_with_header(self.header + new_keys)
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.header, restval="")
            writer.writerow(dict(row))
            f.flush()

    def _rewrite_with_header(self, header: list[str]) -> None:
        old_rows: list[dict[str, str]] = []
        if self.header and os.path.exists(self.path):
            with open(self.path, newline="") as f:
                reader = csv.DictReader(f)
                old_rows = [dict(r) for r in reader]
        tmp_path = self.path + ".tmp"
        with open(tmp_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header, restval="", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(old_rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, self.path)
        self.header = header
