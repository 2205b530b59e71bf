"""Pre-trade risk: pure checks with reason codes, the kill switch and the order manager."""
