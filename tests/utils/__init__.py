"""The tests' one support package: tiny on-disk data in the official
layouts, tiny configs inheriting the real ones, and ways to run the tools
(in a subprocess or in this process).

Import as ``from utils import ...``: ``pytest.ini`` puts ``tests/`` (and
``tests/reliability/``, for the test-only hooks configs import) on
``sys.path``. Everything is small enough for a 2-core CPU: 32 px crops of
40 px images, 4 classes of 4 training images. Every name below is
re-exported here; the submodules hold

- ``constants``: repository paths, the flagship and teacher configs, the
  tiny data's sizes (``NUM_CLASSES``, ``PER_CLASS``, ``BATCH``, ...);
- ``data_trees``: Places365, ADE20K, MIT Indoor 67 and CIFAR-10 trees in
  the official layouts;
- ``configs``: the zoo's pipelines at tiny crops, tiny distillation and
  teacher configs, the options shrinking a CRD config;
- ``checkpoints``: models with random weights (or, for tests of what is
  built, none), checkpoints shaped like the runner's and MMClassification
  0.x's;
- ``running``: running the tools in this process, in a subprocess or in the
  background (reliability), reading their logs, and the demo's per-run
  records (``demo_runs``);
- ``resume_checks``: bitwise comparison of checkpoints and of weights, the
  toy runner of the in-process resume tests (``train_toy``, its
  ``NoisyDataset`` and ``DropoutModel``) and ``Killed``, the SIGKILL
  stand-in of the kill-during-save fixture (``tests/conftest.py``);
- ``crafted``: crafted checkpoint payloads (``Forged`` pickles, zip and
  legacy checkpoints around a given pickle);
- ``authors``: the authors' SemCKD and CRD re-implemented for the parity
  tests;
- ``config_costs`` and ``file_seconds`` (used by ``tests/conftest.py``,
  not re-exported): MMEngine's config costs cut for in-process runs (yapf,
  repeated ``mmpretrain::`` lookups), and the measured seconds per test
  file that order the files for the pytest-xdist workers.
"""
from .authors import (  # noqa: F401
    AuthorsAAEmbed, AuthorsCRD, AuthorsMLPEmbed, AuthorsSelfA, AuthorsSemCKD,
    add_crd_indices, authors_contrast_indices)
from .checkpoints import (  # noqa: F401
    build_model, random_init_skipped, save_mmcls_checkpoint,
    save_runner_checkpoint, student_logits)
from .configs import (  # noqa: F401
    crd_tiny_train_args, tiny_pipelines, types_where, untrained_arm_config,
    write_distill_config, write_teacher_config, write_tiny_distill_config)
from .constants import (  # noqa: F401
    BATCH, FLAGSHIP_CONFIG, ITERS_PER_EPOCH, NUM_CLASSES, PER_CLASS, REPO_ROOT,
    RUNNABLE_CONFIGS, TEACHER_CHANNELS, TEACHER_CONFIG, TEST_MODULE_DIRS,
    TESTS_DIR)
from .crafted import (  # noqa: F401
    Forged, array_interface_dict, checkpoint_with, history_buffer_holding,
    legacy_with_pickle, zip_with_pickle)
from .data_trees import (  # noqa: F401
    CATEGORIES, CIFAR10_MD5_OFF, MIT_TEST, MIT_TRAIN, SCENES, TRAIN, VAL,
    make_ade20k, make_ade20k_scenes, make_mit67, make_mit67_scenes,
    make_places365, make_places365_tree, places365_class_names,
    write_cifar10_tree, write_tree_file)
from .resume_checks import (  # noqa: F401
    TOY_BATCH, TOY_EPOCHS, TOY_SAMPLES, DropoutModel, Killed, NoisyDataset,
    assert_checkpoints_equal, same_weights, train_toy)
from .running import (  # noqa: F401
    TIMEOUT, TRAIN_TOOL, BackgroundRun, demo_runs, finish, free_port,
    log_tail, read_scalars, read_test_metrics, run_tool,
    runner_state_restored, start_training, subprocess_env, trace_options,
    train_command, train_in_process)
