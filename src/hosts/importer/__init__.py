"""The importer host: B3 trade files into the store."""
