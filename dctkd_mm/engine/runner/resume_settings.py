"""What a saved training position depends on, and the check on resume.

A checkpoint written mid-epoch says "batch k of epoch e was trained". That
names the same samples in the resumed run only if the sample list, the
batch size, the number of processes, the sampler's shuffling seed and the
gradient-accumulation count are all the same: with 15 images instead of
16, or batches of 5 instead of 4, the same number of batches per epoch
covers other samples, and some are trained twice while others never are.
:func:`run_settings` records them with the loop's position;
:func:`check_resume_settings` refuses a resume where one differs, naming
the setting, the saved and the new value.
"""
import hashlib
import logging
import pickle
from typing import Dict, Optional

from mmengine.logging import print_log


class ResumeMismatchError(RuntimeError):
    """A resumed run differs from the checkpoint's in a setting the saved
    position depends on."""


def _data_infos(dataset):
    """Each sample's info dict, read straight from MMEngine's serialised
    list where there is one (no per-item deep copy)."""
    data, ends = (getattr(dataset, 'data_bytes', None),
                  getattr(dataset, 'data_address', None))
    if data is not None and ends is not None:
        view, start = memoryview(data), 0
        for end in ends.tolist():
            yield pickle.loads(view[start:end])
            start = end
    else:
        yield from dataset.data_list


def sample_fingerprint(dataset) -> Optional[str]:
    """A digest of the dataset's sample list: each sample's image path
    relative to the data root and its label, in order (a data tree moved
    to another disk keeps its digest). None for datasets (wrappers) that
    expose no list."""
    if getattr(dataset, 'data_bytes', None) is None and not isinstance(
            getattr(dataset, 'data_list', None), list):
        return None
    root = str(getattr(dataset, 'data_root', None) or '')
    digest = hashlib.sha1()
    for info in _data_infos(dataset):
        path = info.get('img_path') if isinstance(info, dict) else None
        if isinstance(path, str) and root and path.startswith(root):
            path = path[len(root):]
        label = info.get('gt_label') if isinstance(info, dict) else None
        key = (path, label) if path is not None else info
        digest.update(repr(key).encode() + b'\n')
    return digest.hexdigest()[:16]


def run_settings(runner, dataloader) -> Dict:
    """The settings of this run that a saved position depends on."""
    dataset = dataloader.dataset
    sampler = getattr(dataloader.batch_sampler, 'sampler', None) or \
        getattr(dataloader, 'sampler', None)
    wrapper = getattr(runner, 'optim_wrapper', None)
    return dict(
        dataset_length=len(dataset),
        sample_fingerprint=sample_fingerprint(dataset),
        batch_size=getattr(dataloader.batch_sampler, 'batch_size',
                           dataloader.batch_size),
        world_size=runner.world_size,
        sampler_seed=getattr(sampler, 'seed', None),
        accumulative_counts=getattr(wrapper, '_accumulative_counts', 1))


_DESCRIPTIONS = dict(
    dataset_length='number of training samples',
    sample_fingerprint='training sample list (digest of paths and labels)',
    batch_size='batch size per process',
    world_size='number of processes (GPUs)',
    sampler_seed='sampler shuffling seed',
    accumulative_counts='optim_wrapper.accumulative_counts')


def check_resume_settings(saved: Optional[Dict], runner, dataloader,
                          position: str) -> None:
    """Raise :class:`ResumeMismatchError` if a setting in ``saved``
    differs from this run's.

    A sampler seed that differs only because this run's config leaves
    ``randomness.seed`` unset is taken over from the checkpoint (what
    MMEngine's resume does for the global seed, too late for the sampler).
    """
    if not saved:
        return
    current = run_settings(runner, dataloader)
    sampler = getattr(dataloader.batch_sampler, 'sampler', None)
    cfg = getattr(runner, 'cfg', None) or {}
    seed_cfg = (cfg.get('randomness') or {}).get('seed')
    if (saved.get('sampler_seed') is not None
            and saved['sampler_seed'] != current['sampler_seed']
            and seed_cfg is None and hasattr(sampler, 'seed')):
        sampler.seed = current['sampler_seed'] = saved['sampler_seed']
        print_log(
            f"Sampler seed taken from the checkpoint ({saved['sampler_seed']})"
            ': the config sets no randomness.seed.', logger='current',
            level=logging.INFO)
    for key, description in _DESCRIPTIONS.items():
        old, new = saved.get(key), current[key]
        if old is None or new is None or old == new:
            continue
        raise ResumeMismatchError(
            f'Cannot resume: the checkpoint was written {position} with '
            f'{key} ({description}) = {old!r}, but this run has {new!r}. '
            'The saved position (which samples of the epoch were trained, '
            'how far the accumulation got) is only valid with the same '
            'value. Resume with the original setting, or start a new run '
            'from the checkpoint\'s weights with `load_from=CHECKPOINT` '
            '(tools/train.py --cfg-options load_from=CHECKPOINT) instead '
            'of --resume.')
