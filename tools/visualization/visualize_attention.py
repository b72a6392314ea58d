"""Draw teacher and student attention maps and their DCT spectra, one PNG
per image; see ``dctkd_mm.visualization.attention_cli``."""
from dctkd_mm.visualization.attention_cli import main

if __name__ == '__main__':
    main()
