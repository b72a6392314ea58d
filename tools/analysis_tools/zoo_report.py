"""Print the paper's table: every cell's zoo config, the authors' published
top-1 and the best top-1 of this project's run of that config.

    python tools/analysis_tools/zoo_report.py [WORK_DIRS] [--out FILE]

WORK_DIRS (default ``work_dirs``) holds one folder per trained config,
named like the config (MMEngine's default work dir).
"""
import argparse
import sys

from dctkd_mm.zoo import DATASETS, collect, format_markdown


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='?', default='work_dirs')
    parser.add_argument('--datasets', nargs='+', default=list(DATASETS),
                        choices=list(DATASETS))
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args(argv)
    rows = collect(args.work_dirs, args.datasets)
    table = format_markdown(rows)
    print(table, end='')
    trained = sum(r.ours is not None for r in rows)
    print(f'\n{trained} of {len(rows)} configs have validation results '
          f'under {args.work_dirs}.', file=sys.stderr)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
