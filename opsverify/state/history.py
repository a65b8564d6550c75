"""The last runs of a check from the state store: `opsverify history http:api --target prod`."""

from opsverify.state.cli import history_arguments as add_arguments
from opsverify.state.cli import history_run as run

HELP = "the last runs of a check: status, duration, key figures"
__all__ = ["HELP", "add_arguments", "run"]
