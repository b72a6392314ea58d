"""Issue 17: every config is exact or refused on resume.

* Every config of the repository (zoo, flagship, CIFAR-10, demo) writes
  its checkpoints with AtomicCheckpointHook, checks class counts and
  trains with ExactResumeEpochBasedTrainLoop, and none of them trips the
  misspelt-key check.
* A resume after a change the saved position depends on (sampler type,
  shuffling, a relabelled sample list inside a dataset wrapper) or that
  MMEngine would silently override (the optimizer's lr) is refused by
  name; a checkpoint whose saved settings or position have the wrong type
  is refused as corrupt.
* A top-level key like ``load_form`` stops tools/train.py with "did you
  mean `load_from`?".

On the toy runner (``utils.train_toy``; in process, fast).
"""
import functools
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import (BaseDataset, ClassBalancedDataset,
                              ConcatDataset, RepeatDataset)

import utils
from utils import TOY_BATCH, TOY_SAMPLES, NoisyDataset, train_toy
from dctkd_mm.apis.cli import UnknownConfigKeyError, check_config_keys
from dctkd_mm.engine.runner import ResumeMismatchError
from dctkd_mm.engine.runner.rng_state import CorruptCheckpointStateError

CONFIGS = sorted(
    osp.relpath(p, utils.REPO_ROOT)
    for p in glob.glob(osp.join(utils.REPO_ROOT, 'configs', '**', '*.py'),
                       recursive=True) if '_base_' not in p.split(osp.sep))
CHECKPOINT = dict(type='AtomicCheckpointHook', interval=3, by_epoch=False)


@functools.lru_cache(maxsize=None)
def _config(path):
    return Config.fromfile(osp.join(utils.REPO_ROOT, path))


def test_the_walk_covers_every_config_family():
    families = {p.split(osp.sep)[1] for p in CONFIGS}
    assert {'baselines', 'cifar10', 'demo', 'distill', 'teachers',
            'dct_kd_r50_r18_places365.py'} <= families, families
    assert len(CONFIGS) >= 99


@pytest.mark.parametrize('path', CONFIGS)
def test_every_config_checkpoints_atomically_and_resumes_exactly(path):
    """No exceptions: the CIFAR-10 configs used MMEngine's CheckpointHook
    and no class-count check (issue 17 F5/F8); they now take the project
    runtime like every other config."""
    cfg = _config(path)
    hooks = cfg.default_hooks
    assert hooks.checkpoint.type == 'AtomicCheckpointHook', path
    assert hooks.class_count.type == 'ClassCountCheckHook', path
    assert cfg.train_cfg.type == 'ExactResumeEpochBasedTrainLoop', path
    check_config_keys(cfg, path)  # no legitimate key is taken for a typo


@pytest.mark.parametrize('sampler, setting, saved, new', [
    (dict(type='DefaultSampler', shuffle=False), 'sampler_shuffle', True,
     False),
    (dict(type='mmpretrain.RepeatAugSampler', shuffle=True),
     'sampler_type', 'DefaultSampler', 'RepeatAugSampler'),
], ids=['shuffle-off', 'other-sampler'])
def test_resume_after_a_sampler_change_is_refused(tmp_path, sampler,
                                                  setting, saved, new):
    """Issue 17 F6: same batch count, other order. Accepted, the rest of
    the epoch trained some samples twice and others never."""
    train_toy(tmp_path, checkpoint=CHECKPOINT, max_epochs=1)
    with pytest.raises(ResumeMismatchError) as info:
        train_toy(tmp_path / 'resumed', checkpoint=CHECKPOINT, sampler=sampler,
                  resume_from=str(tmp_path / 'iter_3.pth'))
    message = str(info.value)
    assert f'{setting} (train_dataloader.sampler.' in message, message
    assert f'= {saved!r}, but this run has {new!r}' in message, message
    assert 'load_from=CHECKPOINT' in message


class ListedDataset(BaseDataset):
    """NoisyDataset's samples behind an MMEngine sample list (image path
    and label per sample), which the resume digests."""

    METAINFO = dict(classes=('a', 'b'))

    def __init__(self, labels):
        self.labels = list(labels)
        self.noisy = NoisyDataset(len(self.labels))
        super().__init__(ann_file='', serialize_data=True)

    def load_data_list(self):
        return [dict(img_path=f'img_{i:03d}.png', gt_label=label)
                for i, label in enumerate(self.labels)]

    def get_cat_ids(self, idx):
        return [self.get_data_info(idx)['gt_label']]

    def __getitem__(self, idx):
        sample = self.noisy[idx]
        sample['target'] = torch.tensor(self.get_data_info(idx)['gt_label'])
        return sample


WRAPPERS = {
    'plain': lambda d: d,
    'RepeatDataset-times-1': lambda d: RepeatDataset(d, times=1),
    'ConcatDataset': lambda d: ConcatDataset([d]),
    'ClassBalancedDataset': lambda d: ClassBalancedDataset(
        d, oversample_thr=0.0),
}


@pytest.mark.parametrize('wrapper', sorted(WRAPPERS))
def test_relabelled_sample_list_is_refused_inside_wrappers(tmp_path,
                                                           wrapper):
    """Issue 17 F7: wrappers recorded no digest, so a relabelled list was
    accepted inside RepeatDataset(times=1) although refused when plain.
    The flattened list is digested now; the same list resumes exactly."""
    labels = [i % 2 for i in range(TOY_SAMPLES)]
    wrap = WRAPPERS[wrapper]
    full = train_toy(tmp_path, checkpoint=CHECKPOINT, max_epochs=1,
                     dataset=wrap(ListedDataset(labels)))
    resumed = train_toy(tmp_path / 'same', checkpoint=CHECKPOINT, max_epochs=1,
                        dataset=wrap(ListedDataset(labels)),
                        resume_from=str(tmp_path / 'iter_3.pth'))
    assert resumed.seen == full.seen[3 * TOY_BATCH:]
    relabelled = [1 - label for label in labels[:2]] + labels[2:]
    with pytest.raises(ResumeMismatchError) as info:
        train_toy(tmp_path / 'relabelled', checkpoint=CHECKPOINT, max_epochs=1,
                  dataset=wrap(ListedDataset(relabelled)),
                  resume_from=str(tmp_path / 'iter_3.pth'))
    assert 'sample_fingerprint (training sample list' in str(info.value)


def test_digest_flattens_repeats_and_concatenation_order(tmp_path):
    from dctkd_mm.engine.runner.resume_settings import sample_fingerprint
    a, b = ListedDataset([0, 1, 0]), ListedDataset([1, 1, 0])
    digest = sample_fingerprint
    assert digest(RepeatDataset(a, times=1)) == digest(a)
    assert digest(RepeatDataset(a, times=2)) != digest(a)
    assert digest(ConcatDataset([a, b])) != digest(ConcatDataset([b, a]))
    assert digest(ConcatDataset([a, b])) != digest(ConcatDataset([a, a]))
    # Oversampling the rare class repeats its samples: another list.
    assert digest(ClassBalancedDataset(b, oversample_thr=0.5)) != digest(b)


def test_resume_with_another_lr_is_refused(tmp_path):
    """MMEngine restores the saved optimizer, lr included: the new lr was
    ignored without a word."""
    train_toy(tmp_path, checkpoint=CHECKPOINT, max_epochs=1)
    with pytest.raises(ResumeMismatchError) as info:
        train_toy(tmp_path / 'resumed', checkpoint=CHECKPOINT, lr=0.2,
                  resume_from=str(tmp_path / 'iter_3.pth'))
    message = str(info.value)
    assert ('optim_wrapper.optimizer.lr (optimizer hyperparameter) = 0.1, '
            'but this run has 0.2') in message, message
    assert 'silently ignored' in message and 'load_from' in message


@pytest.mark.parametrize('where, value, key', [
    (('settings', 'batch_size'), [[2]], 'settings.batch_size'),
    (('settings', ), [1, 2], 'settings'),
    (('iter', ), 3.0, 'iter'),
    (('batches_done', ), -1, 'batches_done'),
], ids=['nested-list-setting', 'settings-not-a-dict', 'float-iter',
        'negative-position'])
def test_saved_position_of_the_wrong_type_is_refused_as_corrupt(
        tmp_path, where, value, key):
    train_toy(tmp_path, checkpoint=CHECKPOINT, max_epochs=1)
    checkpoint = torch.load(str(tmp_path / 'iter_3.pth'), weights_only=False)
    state = checkpoint['message_hub']['runtime_info']['exact_resume_state']
    for step in where[:-1]:
        state = state[step]
    state[where[-1]] = value
    torch.save(checkpoint, str(tmp_path / 'crafted.pth'))
    with pytest.raises(CorruptCheckpointStateError) as info:
        train_toy(tmp_path / 'resumed', checkpoint=CHECKPOINT,
                  resume_from=str(tmp_path / 'crafted.pth'))
    assert (f'message_hub.runtime_info.exact_resume_state.{key} should be'
            in str(info.value)), str(info.value)


@pytest.mark.parametrize('where', ['config', 'cfg-options'])
def test_misspelt_top_level_key_stops_train_tool(tmp_path, where):
    """``load_form=`` used to train from scratch without a word."""
    config = osp.join(utils.REPO_ROOT, 'configs', 'cifar10',
                      'resnet18_8xb16_cifar10.py')
    options = []
    if where == 'config':
        with open(tmp_path / 'typo.py', 'w') as f:
            f.write(f"_base_ = [{config!r}]\n"
                    "load_form = 'work_dirs/epoch_3.pth'\n")
        config = str(tmp_path / 'typo.py')
    else:
        options = ['--cfg-options', 'load_form=work_dirs/epoch_3.pth']
    with pytest.raises(UnknownConfigKeyError) as info:
        utils.train_in_process(
            [config, '--work-dir', str(tmp_path / 'work')] + options)
    message = str(info.value)
    assert '`load_form`' in message and 'did you mean `load_from`?' in message
    assert not osp.exists(str(tmp_path / 'work'))  # stopped before the run
