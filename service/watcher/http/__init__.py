"""HTTP plumbing the service and the gateway share: JSON responses, the per-request middleware
(request id, access line, metrics) and the Prometheus registry and exposition."""
