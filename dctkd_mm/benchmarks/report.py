"""Markdown tables of benchmark results (the JSON holds everything)."""
from typing import List, Optional


def _mb(value: Optional[float]) -> str:
    return 'n/a' if value is None else f'{value:.0f}'


def _loss_table(sec: dict) -> List[str]:
    out = [f"\n### Loss forward+backward, 4 ResNet stages (load "
           f"{sec.get('load_before')} -> {sec.get('load_after')})\n",
           '| loss | features | batch | median ms | IQR/median | vs ATLoss '
           '| aten ops | host syncs | CUDA launches | peak MB |',
           '|---|---|---|---|---|---|---|---|---|---|']
    for r in sec['rows']:
        out.append(f"| {r['loss']} | {r['features']} | {r['batch']} | "
                   f"{r['ms']:.2f} | {r['iqr']:.2f} | "
                   f"{r['ratio_vs_at']:.2f}x | {r['aten_ops']:.0f} | "
                   f"{r['host_syncs']:.0f} | {r['cuda_kernel_launches']:.0f} "
                   f"| {_mb(r['peak_mb'])} |")
    return out


def _step_table(sec: dict) -> List[str]:
    out = [f"\n### Training step, batch {sec['batch']} at {sec['size']} px "
           f"(load {sec.get('load_before')} -> {sec.get('load_after')})\n",
           '| variant | median ms | IQR/median | images/s | peak MB | '
           'overhead | vs plain distill |',
           '|---|---|---|---|---|---|---|']
    for r in sec['rows']:
        over = f"{r['overhead']:.3f}x" if 'overhead' in r else ''
        rel = (f"{r['vs_plain_distill']:.3f}x"
               if 'vs_plain_distill' in r else '')
        out.append(f"| {r['variant']} | {r['ms']:.1f} | {r['iqr']:.2f} | "
                   f"{r['images_per_s']:.1f} | {_mb(r['peak_mb'])} | "
                   f'{over} | {rel} |')
    for name, error in sec.get('failures', {}).items():
        out.append(f'\nFailed in warm-up, not timed: {name}: {error}')
    return out


def _growth_tables(sec: dict) -> List[str]:
    out = []
    for key, title in (('by_batch', 'batch size (224 px input)'),
                       ('by_size', 'input size')):
        out += [f'\n### Loss fwd+bwd against {title}\n',
                '| batch | input px | ATLoss ms | DCT ms | DCT/AT | '
                'DCT ms/sample |', '|---|---|---|---|---|---|']
        for r in sec[key]:
            out.append(f"| {r['batch']} | {r['size']} | {r['at_ms']:.2f} | "
                       f"{r['dct_ms']:.2f} | {r['ratio']:.2f}x | "
                       f"{r['dct_ms_per_sample']:.3f} |")
    return out


def _profile_table(sec: dict) -> List[str]:
    out = [f"\n### Ops and host syncs per step (batch {sec['batch']}, "
           f"{sec['size']} px)\n",
           '| variant | part | aten ops | host syncs | '
           '_local_scalar_dense | CUDA launches |', '|---|---|---|---|---|---|']
    for variant, counts in sec['variants'].items():
        for part in ('student_step', 'distill_step', 'teacher_forward',
                     'added', 'added_beyond_teacher'):
            c = counts[part]
            out.append(f"| {variant} | {part} | {c['aten_ops']:.0f} | "
                       f"{c['host_syncs']:.0f} | "
                       f"{c['aten::_local_scalar_dense']:.0f} | "
                       f"{c['cuda_kernel_launches']:.0f} |")
    return out


def _demo_table(sec: dict) -> List[str]:
    out = [f"\n### The demo's CPU costs: default batch {sec['batch']}, "
           f"{sec['size']} px, width {sec['width']}, {sec['threads']} "
           f"thread(s) (load {sec.get('load_before')} -> "
           f"{sec.get('load_after')})\n",
           '| what | median ms | ms per image | IQR/median |',
           '|---|---|---|---|']
    for r in sec['rows']:
        out.append(f"| {r['variant']} | {r['ms']:.3f} | "
                   f"{r['ms_per_image']:.3f} | {r['iqr']:.2f} |")
    return out


def markdown(results: dict) -> str:
    env = results['environment']
    out = ['Environment: ' + ', '.join(f'{k}={v}' for k, v in env.items()),
           f"Command: `{results['command']}`"]
    if 'loss' in results:
        out += _loss_table(results['loss'])
    for key in sorted(k for k in results if k.startswith('step')):
        out += _step_table(results[key])
    if 'growth' in results:
        out += _growth_tables(results['growth'])
    if 'profile' in results:
        out += _profile_table(results['profile'])
    if 'demo' in results:
        out += _demo_table(results['demo'])
    return '\n'.join(out) + '\n'
