"""Target files: loading with line numbers (yamlsource), ${VAR} interpolation, secrets, validation (target).

Import from the modules themselves; this package imports nothing, so `opsverify.kinds` (which the target
model is built from) can import `opsverify.config.types` without a cycle.
"""
