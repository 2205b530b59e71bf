"""Market-data sources behind the `MarketDataFeed` port: recording replays, a synthetic market."""

from adapters.feeds.pacing import AsFastAsPossible, FixedRate, Pacer, RecordedPace
from adapters.feeds.recording import RecordingFeed
from adapters.feeds.synthetic import SyntheticFeed

__all__ = [
    "AsFastAsPossible",
    "FixedRate",
    "Pacer",
    "RecordedPace",
    "RecordingFeed",
    "SyntheticFeed",
]
