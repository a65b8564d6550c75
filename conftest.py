"""Loads the opsverify plugin and the fixtures users may use in their own checks."""

pytest_plugins = ["opsverify.plugin", "fixtures.core", "fixtures.backups"]
