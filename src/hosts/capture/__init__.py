"""The capture host: market data into the store and onto the WebSocket."""
