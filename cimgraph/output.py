"""Writing outputs safely: atomically (a temporary file in the same folder, then a rename), never
over one of the command's own inputs, and every OS error as a clean CimgraphError (exit 2).

A reader never sees a half-written file, a full disk leaves the previous file in place, and
`cimgraph run chip.yaml --json chip.yaml` is refused before anything is computed.
"""
from __future__ import annotations

import os
import tempfile
from typing import Iterable

from .errors import CimgraphError


class OutputError(CimgraphError):
    """An output cannot be written (bad place, no permission, disk full, would overwrite an input)."""


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_outputs(outputs: Iterable[str | os.PathLike | None], inputs: Iterable[str | os.PathLike | None]) -> None:
    """Refuse outputs that are one of the inputs, or the same file named twice; call before working."""
    inputs = [os.fspath(p) for p in inputs if p]
    seen: list[str] = []
    for out in (os.fspath(p) for p in outputs if p):
        for source in inputs:
            if _same(out, source):
                raise OutputError(f"{out}: refusing to overwrite {source}, an input of this command; "
                                  "choose another output path")
        for other in seen:
            if _same(out, other):
                raise OutputError(f"{out}: the same file is given for two outputs")
        seen.append(out)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> str:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically; create missing folders.

    Returns the path. Raises OutputError naming the path and the OS's reason.
    """
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    temp = None
    try:
        try:
            os.makedirs(folder, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise OutputError(f"{path}: cannot write: {folder} (or a folder above it) is a file, "
                              "not a folder") from None
        if os.path.isdir(path):
            raise IsADirectoryError(21, "Is a directory")
        if os.path.exists(path) and not os.path.isfile(path):  # /dev/stdout, a FIFO: write through, never replace
            with open(path, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            return path
        handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="\n", dir=folder, delete=False,
                                             prefix=f".{os.path.basename(path)}.", suffix=".tmp")
        temp = handle.name
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
        temp = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass
    return path


def write_tables(directory: str | os.PathLike, tables: dict[str, list[list]]) -> list[str]:
    """Write each ``{file name: rows}`` table as a CSV file in ``directory`` (atomically); return the paths."""
    import csv
    import io

    paths = []
    for name, rows in tables.items():
        table = io.StringIO(newline="")
        csv.writer(table).writerows(rows)
        paths.append(write_text(os.path.join(directory, name), table.getvalue()))
    return paths
