"""Application services over the event store: load, decide, save."""
