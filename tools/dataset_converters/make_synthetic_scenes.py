"""Write the synthetic scene dataset in the Places365-Standard layout; see
``dctkd_mm.apis.synthetic_scenes_cli``."""
from dctkd_mm.apis.synthetic_scenes_cli import main

if __name__ == '__main__':
    main()
