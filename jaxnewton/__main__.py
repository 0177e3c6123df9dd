import sys

from jaxnewton.cli import main

sys.exit(main())
