"""`python -m tui` is the same as the `llm-tui` command."""

import sys

from tui.cli.main import main

sys.exit(main())
