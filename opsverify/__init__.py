"""opsverify: operations guides as pytest checks against YAML target files."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opsverify")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
