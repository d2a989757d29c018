import sys

from clientcheck.cli import main

sys.exit(main())
