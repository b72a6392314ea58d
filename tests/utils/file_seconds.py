"""Measured seconds per test file, read by ``tests/conftest.py`` to hand
the files to the pytest-xdist workers heaviest first. Only the order
matters: a file missing here runs after the listed ones, so a new slow
file should be added (with a rough figure) and the table re-measured now
and then.

The figures: the sum of each file's setup, call and teardown durations in
a run of the whole suite (its subprocesses' time included, as the test
waits for them)::

    python -m pytest tests -q --durations=0

(Intel Xeon, 2 vCPUs, idle, 2026-12-06; files of 1.5 s and more.)
"""

FILE_SECONDS = {
    'tests/test_zoo_every_new_cell_trains.py': 53,
    'tests/test_multi_process_recipe.py': 46,
    'tests/reliability/test_reliability_resume.py': 32,
    'tests/test_analysis_tools.py': 29,
    'tests/test_cifar10_configs.py': 28,
    'tests/test_zoo_pkt_vid.py': 21,
    'tests/test_model_converters.py': 19,
    'tests/test_benchmark.py': 19,
    'tests/test_configs.py': 17,
    'tests/test_demo_end_to_end.py': 15,
    'tests/test_zoo_ckd.py': 14,
    'tests/test_export_plain_mmpretrain.py': 14,
    'tests/reliability/test_reliability_crafted_files.py': 13,
    'tests/test_compat.py': 13,
    'tests/test_export_zoo.py': 13,
    'tests/test_pkt_vid_losses.py': 11,
    'tests/reliability/test_reliability_checkpoints.py': 11,
    'tests/test_zoo_losses.py': 10,
    'tests/test_demo_arms.py': 10,
    'tests/test_zoo_crd.py': 10,
    'tests/test_visualization.py': 9,
    'tests/reliability/test_reliability_rng_state.py': 9,
    'tests/test_tools.py': 9,
    'tests/test_adaptive_module.py': 9,
    'tests/reliability/test_reliability_resume_guards.py': 8,
    'tests/reliability/test_reliability_untrusted_sources.py': 6,
    'tests/test_model_cards.py': 5,
    'tests/test_zoo_report.py': 5,
    'tests/test_fast_teacher.py': 5,
    'tests/reliability/test_reliability_bad_input.py': 5,
    'tests/test_demo_loss_calibration.py': 5,
    'tests/test_demo_command_line.py': 4,
    'tests/test_distill_step.py': 3,
    'tests/test_install.py': 3,
    'tests/test_export_wrapped_datasets.py': 3,
    'tests/test_export_checkpoint.py': 3,
    'tests/test_loss_compile.py': 3,
    'tests/test_tensorboard.py': 3,
    'tests/test_recorder_list_distiller.py': 2,
    'tests/reliability/test_reliability_amp.py': 2,
    'tests/reliability/test_reliability_resume_loop.py': 2,
    'tests/reliability/test_reliability_crafted_tensors.py': 2,
}
