"""Readers of B3 NEG trade files and Profit times-and-trades exports, into the event store."""

from adapters.b3.errors import B3FileError
from adapters.b3.importer import FileFormat, FileImport, import_file

__all__ = ["B3FileError", "FileFormat", "FileImport", "import_file"]
