"""Read a trade file's bytes: plain text (memory-mapped) or the one text file in a zip."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import pyarrow as pa

from adapters.b3.errors import B3FileError


def read_bytes(path: Path) -> pa.Buffer:
    """Return the file's content; a zip must hold exactly one file (or one `.txt`)."""
    try:
        if zipfile.is_zipfile(path) or path.suffix.lower() == ".zip":
            return pa.py_buffer(_unzip(path))
        with pa.memory_map(str(path), "r") as mapped:
            return mapped.read_buffer()
    except FileNotFoundError:
        raise B3FileError(path, "no such file") from None
    except IsADirectoryError:
        raise B3FileError(path, "is a directory, not a trade file") from None
    except PermissionError as error:
        raise B3FileError(path, f"cannot be read: {error}") from None


def _unzip(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) > 1:
                members = [info for info in members if info.filename.lower().endswith(".txt")]
            if len(members) != 1:
                names = ", ".join(info.filename for info in archive.infolist()) or "nothing"
                raise B3FileError(
                    path,
                    f"the zip must hold one trade file (or one .txt), it holds {names}",
                    field="archive",
                )
            return archive.read(members[0])
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise B3FileError(
            path, f"truncated or corrupt zip archive ({error})", field="archive"
        ) from None


def first_line(data: pa.Buffer) -> tuple[str, int]:
    """Return the first line (decoded) and the offset where the next line starts."""
    head = data[: min(len(data), 4096)].to_pybytes()
    end = head.find(b"\n")
    if end < 0:
        return head.decode("latin-1").rstrip("\r"), len(data)
    return head[:end].decode("latin-1").rstrip("\r"), end + 1


def last_line(data: pa.Buffer, start: int) -> tuple[str, int]:
    """Return the last non-empty line at or after `start`, and the offset where it starts."""
    window = max(start, len(data) - 4096)
    tail = data[window:].to_pybytes().rstrip(b"\r\n")
    begin = tail.rfind(b"\n") + 1
    return tail[begin:].decode("latin-1").rstrip("\r"), window + begin
