"""Notifications: one module per channel, a router, delivery state."""
