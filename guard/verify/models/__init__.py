"""The support model shipped with guard (weights and chosen thresholds); data only."""
