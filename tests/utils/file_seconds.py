"""Measured seconds per test file, read by ``tests/conftest.py`` to hand
the files to the pytest-xdist workers heaviest first. Only the order
matters: a file missing here runs after the listed ones, so a new slow
file should be added (with a rough figure) and the table re-measured now
and then.

The figures: CPU seconds (user + sys, its subprocesses included) of one
file run alone, less the ~5 s of interpreter start and collection that a
worker pays once::

    OMP_NUM_THREADS=1 /usr/bin/time -f '%U %S' \\
        python -m pytest -p no:xdist -q tests/FILE

(Intel Xeon, 2 vCPUs shared with other jobs, 2026-12-06; files with
processes side by side -- the distributed runs, the background run of
the reliability tests -- count every process's CPU, which also slows the
other worker.)
"""

FILE_SECONDS = {
    'tests/test_multi_process_recipe.py': 68,
    'tests/test_zoo_every_new_cell_trains.py': 56,
    'tests/test_dist_cpu.py': 52,
    'tests/reliability/test_reliability_resume.py': 51,
    'tests/reliability/test_reliability_crafted_files.py': 47,
    'tests/test_analysis_tools.py': 46,
    'tests/test_cifar10_configs.py': 38,
    'tests/reliability/test_reliability_checkpoints.py': 35,
    'tests/test_demo_end_to_end.py': 33,
    'tests/test_configs.py': 31,
    'tests/test_benchmark.py': 28,
    'tests/test_zoo_pkt_vid.py': 27,
    'tests/test_model_converters.py': 26,
    'tests/test_pkt_vid_losses.py': 22,
    'tests/test_export_zoo.py': 20,
    'tests/reliability/test_reliability_rng_state.py': 19,
    'tests/test_compat.py': 18,
    'tests/test_export_plain_mmpretrain.py': 18,
    'tests/test_zoo_losses.py': 17,
    'tests/test_visualization.py': 16,
    'tests/test_zoo_ckd.py': 15,
    'tests/reliability/test_reliability_bad_input.py': 14,
    'tests/test_adaptive_module.py': 14,
    'tests/test_demo_arms.py': 14,
    'tests/test_model_cards.py': 13,
    'tests/reliability/test_reliability_resume_guards.py': 13,
    'tests/reliability/test_reliability_untrusted_sources.py': 12,
    'tests/test_zoo_crd.py': 12,
    'tests/test_zoo_report.py': 11,
    'tests/test_fast_teacher.py': 9,
    'tests/reliability/test_reliability_amp.py': 9,
    'tests/test_demo_command_line.py': 8,
    'tests/test_loss_compile.py': 8,
    'tests/test_recorder_list_distiller.py': 7,
    'tests/test_install.py': 7,
    'tests/test_tensorboard.py': 7,
    'tests/test_demo_loss_calibration.py': 6,
    'tests/test_export_checkpoint.py': 5,
    'tests/reliability/test_reliability_checkpoint_hook.py': 5,
    'tests/test_tools.py': 5,
    'tests/test_packaged_configs.py': 5,
    'tests/test_distill_step.py': 5,
    'tests/test_export_wrapped_datasets.py': 5,
    'tests/test_readme.py': 5,
    'tests/test_safe_cifar.py': 4,
    'tests/reliability/test_reliability_input_checks.py': 4,
    'tests/test_metrics.py': 4,
    'tests/reliability/test_reliability_crafted_tensors.py': 4,
    'tests/reliability/test_reliability_resume_loop.py': 4,
    'tests/test_synthetic_scenes.py': 4,
    'tests/test_zoo_inference_and_few_classes.py': 4,
    'tests/reliability/test_reliability_downloads.py': 3,
    'tests/test_frozen_teacher_loss.py': 3,
    'tests/test_safe_cifar_labels.py': 3,
    'tests/test_loss_size_mismatch.py': 3,
    'tests/test_demo_report.py': 3,
    'tests/test_libjpeg_report.py': 3,
    'tests/test_demo_loss_scaling.py': 2,
    'tests/test_verify_dataset.py': 2,
    'tests/test_hooks_in_configs.py': 2,
    'tests/test_export_metrics.py': 2,
    'tests/test_demo_scheduling.py': 2,
    'tests/test_demo_sweep.py': 2,
    'tests/test_datasets.py': 2,
    'tests/test_dct_attention_loss.py': 2,
    'tests/test_connectors.py': 1,
    'tests/test_dct.py': 1,
    'tests/test_dataset_listing_checks.py': 1,
    'tests/test_channels_last_hook.py': 1,
    'tests/reliability/test_reliability_plain_data.py': 1,
    'tests/test_demo_statistics.py': 1,
    'tests/test_cached_loading.py': 1,
    'tests/test_import_cycles.py': 0,
}
