"""opsverify: operations guides as pytest checks against YAML target files."""

# The one place the version is written: pyproject.toml reads it from here (`[tool.setuptools.dynamic]`), so a run
# does not look it up in the installed distribution's metadata at every start (tests/test_version.py).
__version__ = "0.4.1"
