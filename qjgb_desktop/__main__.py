import sys

from qjgb_desktop.cli import main

sys.exit(main())
