"""operationId targets: unpack the request, call a service, shape the reply."""
