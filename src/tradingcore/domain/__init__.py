"""The pure domain: value objects, aggregates and their events; no I/O."""
