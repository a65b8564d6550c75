"""What a user's ops repository has: its own fixtures (the opsverify plugin loads itself when installed)."""

pytest_plugins = ["fixtures.deployment"]
