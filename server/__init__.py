"""Application B: the contract-first service behind ``spec/openapi.yaml``."""
