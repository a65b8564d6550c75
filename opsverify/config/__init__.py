"""Target files: loading with line numbers, ${VAR} interpolation, secrets, validation."""

from opsverify.config.secrets import SECRETS, redact
from opsverify.config.target import CheckItem, LoadedTarget, list_targets, load_target, resolve_target_path
from opsverify.config.yamlsource import TargetError

__all__ = [
    "SECRETS",
    "CheckItem",
    "LoadedTarget",
    "TargetError",
    "list_targets",
    "load_target",
    "redact",
    "resolve_target_path",
]
