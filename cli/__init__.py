"""Application A: ``contract-api``, a command-line client of the service.

It speaks HTTP only through the generated client (``contract_api_client``) and never
imports ``server``: what it knows of the API is what the spec says.
"""
