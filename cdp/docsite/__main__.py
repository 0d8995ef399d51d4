import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
django.setup()

from cdp.docsite.build import main  # noqa: E402  (after django.setup: it imports the apps)

sys.exit(main(sys.argv[1:]))
