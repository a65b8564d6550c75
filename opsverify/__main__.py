import sys

from opsverify.cli import main

sys.exit(main())
