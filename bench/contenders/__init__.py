"""Peer implementations of the service's benchmarked endpoints, each run as its own server."""
