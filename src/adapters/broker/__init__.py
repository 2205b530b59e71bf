"""Broker adapters: the paper broker and ProfitDLL routing."""
