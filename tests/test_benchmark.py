"""The benchmarks in dctkd_mm.benchmarks: host-sync and op counts of a real
flagship distillation step, the GPU suite and the CLI at tiny sizes on the
CPU, and the transform-gradient comparison."""
import json
import subprocess
import sys

import pytest
import torch

import dctkd_mm  # noqa: F401
from dctkd_mm.benchmarks import cli, gpu_suite
from dctkd_mm.benchmarks.profile_counts import count_step, flagship_step_counts
from dctkd_mm.benchmarks.transform_gradients import gradient_cosines, measure
from utils import REPO_ROOT

CPU = torch.device('cpu')


def test_sync_counter_counts_scalar_reads_once_each():
    x = torch.rand(4)

    def two_reads():
        float(x.sum())
        if (x > 2).any():  # bool(): is_nonzero -> item -> one read
            pass

    counts = count_step(two_reads, CPU)
    assert counts['host_syncs'] == 2
    assert counts['aten::_local_scalar_dense'] == 2
    assert count_step(lambda: x * 2, CPU)['host_syncs'] == 0


@pytest.mark.parametrize('check_finite,syncs', [(True, 1), (False, 0)])
def test_flagship_distillation_adds_one_sync_with_check_finite_none_without(
        check_finite, syncs):
    counts = flagship_step_counts(CPU, batch=2, size=64,
                                  check_finite=check_finite)
    assert counts['student_step']['host_syncs'] == 0
    assert counts['added']['host_syncs'] == syncs
    assert counts['added']['aten::_local_scalar_dense'] == syncs
    assert counts['added_beyond_teacher']['host_syncs'] == syncs
    # The teacher forward and the loss add work, which is counted.
    assert counts['added']['aten_ops'] > counts['teacher_forward'][
        'aten_ops'] > 0


def test_gpu_suite_runs_at_tiny_sizes_on_cpu(tmp_path):
    out = tmp_path / 'gpu.json'
    gpu_suite.main([
        '--out', str(out), '--device', 'cpu', '--size', '32',
        '--loss-batch', '2', '--step-batches', '2', '3', '--profile-batch',
        '2', '--warmup', '1', '--repeats', '1', '--no-compile'])
    results = json.loads(out.read_text())
    assert results['skipped'] == []
    for section in ('loss', 'step_b2', 'step_b3', 'profile'):
        assert 'error' not in results[section], results[section]
    losses = {r['loss']: r for r in results['loss']['rows']}
    assert losses['ATLoss (MMRazor)']['ratio_vs_at'] == 1.0
    assert losses["DCTAttentionLoss('dft_real')"]['host_syncs'] == 1
    assert losses["DCTAttentionLoss('dft_real', check_finite=False)"][
        'host_syncs'] == 0
    steps = {r['variant']: r for r in results['step_b3']['rows']}
    assert set(gpu_suite.STEP_VARIANTS) <= set(steps)
    assert all(steps[name]['overhead'] > 0 for name in gpu_suite.STEP_VARIANTS)
    added = results['profile']['variants']['check_finite=True']['added']
    assert added['host_syncs'] == 1


def test_gpu_suite_skips_sections_past_its_budget(tmp_path):
    out = tmp_path / 'gpu.json'
    gpu_suite.main(['--out', str(out), '--device', 'cpu', '--size', '32',
                    '--loss-batch', '2', '--warmup', '1', '--repeats', '1',
                    '--no-compile', '--budget-s', '0'])
    results = json.loads(out.read_text())
    # The first section always runs; everything after the budget is named.
    assert 'loss' in results
    assert results['skipped'] == ['step_b32', 'step_b128', 'profile']


def test_benchmark_tool_writes_json_and_markdown(tmp_path):
    json_out, md_out = tmp_path / 'b.json', tmp_path / 'b.md'
    proc = subprocess.run(
        [sys.executable, 'tools/analysis_tools/benchmark.py', '--device',
         'cpu', '--sections', 'loss', '--loss-batch', '2', '--warmup', '1',
         '--repeats', '1', '--out', str(json_out), str(md_out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(json_out.read_text())
    assert results['command'].startswith(
        'python tools/analysis_tools/benchmark.py')
    assert "| DCTAttentionLoss('dct') | float32 | 2 |" in md_out.read_text()
    assert cli.parse_args(['--device', 'cpu']).step_batch == 16


def test_transform_gradient_cosine():
    gen = torch.Generator().manual_seed(0)
    s = [torch.rand(2, 4, 8, 8, generator=gen)]
    t = [torch.rand(2, 6, 8, 8, generator=gen)]
    same = gradient_cosines(s, t, transforms=('dft_real', 'reference'))
    assert same[0] == pytest.approx(1.0, abs=1e-6)
    # On 2x2 maps the DCT-II and the real DFT differ only by a scale,
    # which the min-max normalisation removes.
    tiny = gradient_cosines([torch.rand(2, 4, 2, 2, generator=gen)],
                            [torch.rand(2, 6, 2, 2, generator=gen)])
    assert tiny[0] == pytest.approx(1.0, abs=1e-5)
    result = measure(seeds=[0], batch=2, size=128)
    assert result['map_px'] == [32, 16, 8, 4]
    cosines = result['cosine_per_seed']['0']
    # On 2x2 maps the two transforms coincide (up to scale); on larger
    # maps the losses pull in different directions.
    assert len(cosines) == 4 and all(-1 <= c < 0.9 for c in cosines)


def test_demo_section_times_both_layouts_and_both_loaders(tmp_path):
    """``--sections demo`` (run only when asked for): the demo's baseline
    and DCT+KD steps in each memory layout, and image loading with and
    without the cache, in the JSON and the markdown."""
    args = cli.parse_args(['--device', 'cpu', '--sections', 'demo',
                           '--step-warmup', '0', '--step-repeats', '1'])
    assert 'demo' not in cli.parse_args(['--device', 'cpu']).sections
    section = cli.run_section('demo', args)
    names = [row['variant'] for row in section['rows']]
    assert names == [
        'baseline step, batch 128, default',
        'baseline step, batch 128, channels_last',
        'baseline step, batch 32, channels_last',
        'dct+kd step, batch 128, default',
        'dct+kd step, batch 128, channels_last',
        'dct+kd step, batch 32, channels_last',
        'load image, LoadImageFromFile',
        'load image, CachedLoadImageFromFile (warm)']
    assert all(row['ms'] > 0 for row in section['rows'])
    assert section['rows'][0]['ms_per_image'] == pytest.approx(
        section['rows'][0]['ms'] / 128)
    assert (section['batch'], section['size']) == (128, 40)
    text = cli.write_outputs(dict(environment={}, command='x',
                                  demo=section), [])
    assert "The demo's CPU costs" in text and 'dct+kd step' in text
