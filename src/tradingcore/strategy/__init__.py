"""Strategies as user code: what they see, what they may ask, and the ones that ship."""
