from tests.backups.s3.motoserver import moto_s3  # noqa: F401 - a restic repository in a bucket
from tests.backups.tools.live_stanza import live_stanza  # noqa: F401 - a running cluster archiving to pgBackRest
from tests.backups.tools.repos import (  # noqa: F401 - fixtures of the tool tests
    borg_repo,
    borg_template,
    private_tmp,
    restic_repo,
    restic_template,
)
from tests.backups.tools.stanza import stanza  # noqa: F401 - a real pgBackRest stanza with two backups
from tests.drills.conftest import reports  # noqa: F401 - drill evidence into tmp_path/reports
