from tests.backups.tools.repos import borg_repo, private_tmp, restic_repo  # noqa: F401 - fixtures of the tool tests
from tests.drills.conftest import reports  # noqa: F401 - drill evidence into tmp_path/reports
