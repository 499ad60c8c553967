import sys

from qjgb_desktop.cli.entry import main

sys.exit(main())
