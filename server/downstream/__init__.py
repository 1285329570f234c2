"""Calls to downstream APIs: the fan-out machinery (see issue 6) and its circuit breakers."""
