"""Export the student of a distillation checkpoint as a plain MMPretrain
model (config + checkpoint); see ``dctkd_mm.apis.export_cli``."""
from dctkd_mm.apis.export_cli import main

if __name__ == '__main__':
    main()
