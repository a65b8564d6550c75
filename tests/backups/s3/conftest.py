"""Fixtures of the S3 tests: moto's standalone server (see motoserver.py) and the backup dumps."""

from tests.backups.s3.motoserver import moto_s3, moto_s3_auth  # noqa: F401 - the S3 API the tests talk to
