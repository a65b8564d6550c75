"""Local replicas of the five seed systems: real HTTP/TLS servers, databases, logs, backups and metrics."""
