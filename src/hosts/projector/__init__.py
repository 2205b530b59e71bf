"""The projector host: `tradingcore project`, `tradingcore sql` and `tradingcore verify`."""
