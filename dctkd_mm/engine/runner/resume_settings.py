"""What a saved training position depends on, and the check on resume.

A checkpoint written mid-epoch says "batch k of epoch e was trained". That
names the same samples in the resumed run only if the sample list, the
batch size, the number of processes, the sampler (its type, shuffling and
seed) and the gradient-accumulation count are all the same: with 15 images
instead of 16, or batches of 5 instead of 4, the same number of batches per
epoch covers other samples, and some are trained twice while others never
are. Other settings a resume silently overrides: MMEngine restores the
optimizer's saved hyperparameters (a new lr or ``auto_scale_lr`` has no
effect), and the data preprocessor's normalisation is not saved at all (a
new mean/std changes every input from the next step on).
:func:`run_settings` records them with the loop's position;
:func:`check_resume_settings` refuses a resume where one differs, naming
the setting, the saved and the new value.
"""
import hashlib
import logging
import pickle
from typing import Dict, Iterator, Optional

import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from .rng_state import CorruptCheckpointStateError, type_name

#: Where the saved settings live in a checkpoint.
SETTINGS_KEY = 'message_hub.runtime_info.exact_resume_state.settings'


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


def _is_list(dataset) -> bool:
    return getattr(dataset, 'data_bytes', None) is not None or isinstance(
        getattr(dataset, 'data_list', None), list)


def _is_repeat(dataset) -> bool:  # RepeatDataset
    return hasattr(dataset, 'dataset') and type(
        getattr(dataset, 'times', None)) is int


def _is_balanced(dataset) -> bool:  # ClassBalancedDataset
    return hasattr(dataset, 'dataset') and isinstance(
        getattr(dataset, 'repeat_indices', None), list)


def _children(dataset):  # ConcatDataset (MMEngine's and torch's)
    children = getattr(dataset, 'datasets', None)
    return list(children) if isinstance(children, (list, tuple)) else []


def _flattenable(dataset) -> bool:
    if _is_list(dataset):
        return True
    if _is_repeat(dataset) or _is_balanced(dataset):
        return _flattenable(dataset.dataset)
    children = _children(dataset)
    return bool(children) and all(_flattenable(c) for c in children)


def _sample_keys(dataset) -> Iterator[bytes]:
    """One line per sample, in the order the dataset's indices name them
    (wrappers flattened: repeats, balancing repeat factors, concatenation
    order)."""
    if _is_list(dataset):
        root = str(getattr(dataset, 'data_root', None) or '')
        for info in _data_infos(dataset):
            path = info.get('img_path') if isinstance(info, dict) else None
            if isinstance(path, str) and root and path.startswith(root):
                path = path[len(root):]
            label = info.get('gt_label') if isinstance(info, dict) else None
            key = (path, label) if path is not None else info
            yield repr(key).encode() + b'\n'
    elif _is_repeat(dataset):
        for _ in range(dataset.times):
            yield from _sample_keys(dataset.dataset)
    elif _is_balanced(dataset):
        keys = list(_sample_keys(dataset.dataset))
        for index in dataset.repeat_indices:
            yield keys[index]
    else:
        for child in _children(dataset):
            yield from _sample_keys(child)


def sample_fingerprint(dataset) -> Optional[str]:
    """A digest of the dataset's sample list: each sample's image path
    relative to its data root and its label, in the order of the dataset's
    indices (a data tree moved to another disk keeps its digest). Wrapped
    datasets (``RepeatDataset``, ``ClassBalancedDataset``,
    ``ConcatDataset``) are digested as the flat list they index, so a
    wrapper around one list digests as that list repeated, rebalanced or
    concatenated. None for datasets that expose no list."""
    if hasattr(dataset, 'full_init'):
        dataset.full_init()  # wrappers build their index maps lazily
    if not _flattenable(dataset):
        return None
    digest = hashlib.sha1()
    for key in _sample_keys(dataset):
        digest.update(key)
    return digest.hexdigest()[:16]


def _plain(value, nested: bool = False) -> bool:
    """A value a setting may hold: a short scalar, or a short flat list of
    them (what a checkpoint may bring back is shown in messages)."""
    if value is None or type(value) in (bool, int, float):
        return True
    if type(value) is str:
        return len(value) <= 256
    if type(value) in (list, tuple) and not nested:
        return len(value) <= 64 and all(_plain(v, True) for v in value)
    return False


def configured_settings(runner, dataloader) -> Dict:
    """Settings a resume would replace by the checkpoint's, read from the
    config: call it before the runner builds the optimizer and resumes
    (when the train loop is built), or the saved values are seen."""
    optim = runner.optim_wrapper
    optimizer = optim.get('optimizer') if isinstance(optim, dict) else None
    hyper = None
    if isinstance(optimizer, dict):
        hyper = {str(k): (list(v) if isinstance(v, tuple) else v)
                 for k, v in optimizer.items() if _plain(v)}
    scale, factor = runner.auto_scale_lr or {}, 1.0
    if scale.get('enable', False) and scale.get('base_batch_size'):
        # Runner.scale_lr's factor (total batch / base_batch_size).
        batch = getattr(dataloader.batch_sampler, 'batch_size',
                        dataloader.batch_size) or 0
        factor = runner.world_size * batch / scale['base_batch_size']
    return dict(optimizer=hyper, lr_scale=float(factor))


def _normalisation(runner) -> Dict:
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    pre = getattr(model, 'data_preprocessor', None)
    mean, std = getattr(pre, 'mean', None), getattr(pre, 'std', None)
    normalised = (getattr(pre, '_enable_normalize', True)
                  and isinstance(mean, torch.Tensor)
                  and isinstance(std, torch.Tensor))
    to_rgb = getattr(pre, 'to_rgb', getattr(pre, '_channel_conversion',
                                            False))
    return dict(
        preprocessor_mean=mean.flatten().tolist() if normalised else 'none',
        preprocessor_std=std.flatten().tolist() if normalised else 'none',
        preprocessor_to_rgb=bool(to_rgb))


def run_settings(runner, dataloader,
                 configured: Optional[Dict] = None) -> Dict:
    """The settings of this run that a saved position depends on, or that
    a resume would silently override; ``configured`` is what
    :func:`configured_settings` read before the resume."""
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
        sampler_type=type(sampler).__name__,
        sampler_shuffle=getattr(sampler, 'shuffle', None),
        sampler_seed=getattr(sampler, 'seed', None),
        accumulative_counts=getattr(wrapper, '_accumulative_counts', 1),
        **_normalisation(runner),
        **(configured or {}))


_POSITION = ('The saved position (which samples of the epoch were trained, '
             'how far the accumulation got) is only valid with the same '
             'value.')
_OVERRIDDEN = ('MMEngine restores the optimizer from the checkpoint, so the '
               'new value would be silently ignored.')
_INPUTS = ('It is not saved in the checkpoint: every input from the next '
           'step on would be preprocessed differently from the steps before.')

#: Setting -> (what it is, why a change is refused).
_DESCRIPTIONS = dict(
    dataset_length=('number of training samples', _POSITION),
    sample_fingerprint=('training sample list (digest of paths and labels, '
                        'wrappers flattened)', _POSITION),
    batch_size=('batch size per process', _POSITION),
    world_size=('number of processes (GPUs)', _POSITION),
    sampler_type=('train_dataloader.sampler.type', _POSITION),
    sampler_shuffle=('train_dataloader.sampler.shuffle', _POSITION),
    sampler_seed=('sampler shuffling seed', _POSITION),
    accumulative_counts=('optim_wrapper.accumulative_counts', _POSITION),
    lr_scale=('the factor auto_scale_lr applies to the lr, 1.0 when off',
              _OVERRIDDEN),
    preprocessor_mean=('data_preprocessor.mean', _INPUTS),
    preprocessor_std=('data_preprocessor.std', _INPUTS),
    preprocessor_to_rgb=('data_preprocessor.to_rgb', _INPUTS))


def _checked(saved) -> Dict:
    """The saved settings, each of a type a setting can have (they come
    from the checkpoint and are shown in messages)."""
    if type(saved) is not dict:
        raise CorruptCheckpointStateError(SETTINGS_KEY, 'a dict',
                                          type_name(saved))
    for key in list(_DESCRIPTIONS) + ['optimizer']:
        value = saved.get(key)
        if key == 'optimizer' and value is not None:
            ok = type(value) is dict and len(value) <= 64 and all(
                type(k) is str and len(k) <= 64 and _plain(v)
                for k, v in value.items())
        else:
            ok = _plain(value)
        if not ok:
            raise CorruptCheckpointStateError(
                f'{SETTINGS_KEY}.{key}', 'a number, string or short list',
                type_name(value))
    return saved


def _differ(old, new) -> bool:
    # A serialiser may have turned a tuple into a list.
    return (list(old) if type(old) is tuple else old) != (
        list(new) if type(new) is tuple else new)


def _refuse(position: str, key: str, description: str, why: str, old,
            new) -> None:
    shown = ('(not set)' if old is None else repr(old),
             '(not set)' if new is None else repr(new))
    raise ResumeMismatchError(
        f'Cannot resume: the checkpoint was written {position} with '
        f'{key} ({description}) = {shown[0]}, but this run has {shown[1]}. '
        f'{why} Resume with the original setting, or start a new run '
        'from the checkpoint\'s weights with `load_from=CHECKPOINT` '
        '(tools/train.py --cfg-options load_from=CHECKPOINT) instead '
        'of --resume.')


def check_resume_settings(saved: Optional[Dict], runner, dataloader,
                          position: str,
                          configured: Optional[Dict] = None) -> None:
    """Raise :class:`ResumeMismatchError` if a setting in ``saved``
    differs from this run's (settings a checkpoint lacks, written by an
    older version, are not compared).

    A sampler seed that differs only because this run's config leaves
    ``randomness.seed`` unset is taken over from the checkpoint (what
    MMEngine's resume does for the global seed, too late for the sampler).
    """
    if saved is None:
        return
    saved = _checked(saved)
    current = run_settings(runner, dataloader, configured)
    sampler = getattr(dataloader.batch_sampler, 'sampler', None)
    cfg = getattr(runner, 'cfg', None) or {}
    seed_cfg = (cfg.get('randomness') or {}).get('seed')
    if (type(saved.get('sampler_seed')) is int
            and saved['sampler_seed'] != current['sampler_seed']
            and seed_cfg is None and hasattr(sampler, 'seed')):
        sampler.seed = current['sampler_seed'] = saved['sampler_seed']
        print_log(
            f"Sampler seed taken from the checkpoint ({saved['sampler_seed']})"
            ': the config sets no randomness.seed.', logger='current',
            level=logging.INFO)
    for key, (description, why) in _DESCRIPTIONS.items():
        old, new = saved.get(key), current.get(key)
        if old is not None and new is not None and _differ(old, new):
            _refuse(position, key, description, why, old, new)
    old, new = saved.get('optimizer'), current.get('optimizer')
    if old is not None and new is not None:
        for name in sorted(set(old) | set(new)):
            if _differ(old.get(name), new.get(name)):
                _refuse(position, f'optim_wrapper.optimizer.{name}',
                        'optimizer hyperparameter', _OVERRIDDEN,
                        old.get(name), new.get(name))
