"""Paths and sizes every helper shares: the repository's folders and
configs, and the tiny data's class count, images per class and batch."""
import glob
import os.path as osp

# This file is tests/utils/constants.py: two levels below tests/.
TESTS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO_ROOT = osp.dirname(TESTS_DIR)
#: Folders holding modules that test configs import (``custom_imports``).
TEST_MODULE_DIRS = (TESTS_DIR, osp.join(TESTS_DIR, 'reliability'))
FLAGSHIP_CONFIG = osp.join(REPO_ROOT, 'configs',
                           'dct_kd_r50_r18_places365.py')
TEACHER_CONFIG = osp.join(REPO_ROOT, 'configs', 'teachers',
                          'resnet50_in1k-pre_1xb128-70e_places365.py')
#: Every config a user runs: all of ``configs/`` but the ``_base_`` parts.
RUNNABLE_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p.split(osp.sep))

NUM_CLASSES = 4
PER_CLASS = 4
BATCH = 4
ITERS_PER_EPOCH = NUM_CLASSES * PER_CLASS // BATCH
#: Teacher channels of ResNet-50's four stages, for the adapters.
TEACHER_CHANNELS = (256, 512, 1024, 2048)
