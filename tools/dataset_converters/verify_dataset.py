"""Report missing, truncated or undecodable images of a configured dataset
split (exit status 1 if any); see ``dctkd_mm.apis.verify_dataset``."""
import sys

from dctkd_mm.apis.verify_dataset import main

if __name__ == '__main__':
    sys.exit(main())
