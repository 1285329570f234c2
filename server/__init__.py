"""Application B: the contract-first service behind ``spec/openapi.yaml``."""

import warnings

# Connexion imports starlette.testclient at start-up, and Starlette warns there about its
# test client's HTTP library: a note for test suites, and a non-JSON line in every
# server's log. Nothing in the service uses the test client.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
