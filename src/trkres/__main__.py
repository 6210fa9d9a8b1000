"""Allow ``python -m trkres``."""

from trkres.cli import main

main()
