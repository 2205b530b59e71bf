"""WebSocket transport for the spec's tick messages."""
