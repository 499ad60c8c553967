"""Start qjgb-desktop: `python main.py [command] [--data-dir DIR]` (same as `qjgb`)."""

import sys

from qjgb_desktop.cli.entry import main

if __name__ == "__main__":
    sys.exit(main())
