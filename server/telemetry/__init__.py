"""What the service tells its operators: JSON logs (``logs``), Prometheus metrics
(``metrics``) and the middleware that records both per request (``middleware``)."""
