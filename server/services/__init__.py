"""The rules of the service: keyword-only functions that know nothing of HTTP."""
