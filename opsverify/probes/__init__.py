"""Live probes: one module per check kind. A probe reads real state and returns facts; it never asserts."""
