"""python -m bot: the same as the funnelbot command."""

import sys

from bot.cli import main

sys.exit(main())
