"""ChannelsLastHook through tools/train.py's code on the demo's student
config: the run trains in channels-last, and its weights equal the default
layout's up to float rounding."""
import os.path as osp

import pytest
import torch

from dctkd_mm.engine.hooks import ChannelsLastHook
from dctkd_mm.packaged_configs import config_file
from utils import make_places365_tree, train_in_process


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """The demo baseline config trained one step (20 images, batch 20)
    with the hook on and off, from the same seed: ``{enable: saved
    state_dict}``. One step: over several, BatchNorm on a few images
    amplifies the layouts' different rounding far beyond it."""
    root = str(tmp_path_factory.mktemp('places'))
    make_places365_tree(root, num_classes=5, per_class=4, size=32,
                        val_per_class=1)
    states = {}
    for enable in (True, False):
        work_dir = str(tmp_path_factory.mktemp(f'cl_{enable}'))
        options = [f'{loader}.dataset.data_root={root}' for loader in
                   ('train_dataloader', 'val_dataloader', 'test_dataloader')]
        options += ['train_dataloader.batch_size=20',
                    'train_dataloader.dataset.pipeline.1.crop_size=32',
                    'model.head.num_classes=5', 'train_cfg.max_epochs=1',
                    'train_cfg.val_interval=1', 'randomness.seed=0',
                    f'default_hooks.memory_format.enable={enable}']
        train_in_process([config_file('demo/student_r18_synthetic.py'),
                          '--work-dir', work_dir, '--cfg-options', *options])
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            states[enable] = torch.load(f.read().strip(),
                                        weights_only=True)['state_dict']
    return states


def test_the_demo_runtime_trains_in_channels_last(trained):
    convs = [k for k, v in trained[True].items() if v.dim() == 4]
    assert len(convs) == 20  # ResNet-18: stem, 16 in blocks, 3 downsample
    for key in convs:
        assert trained[True][key].is_contiguous(
            memory_format=torch.channels_last), key
        if trained[True][key].shape[-1] > 1:  # 1x1: both layouts agree
            assert not trained[True][key].is_contiguous(), key
        assert trained[False][key].is_contiguous(), key


def test_weights_equal_the_default_layouts_up_to_rounding(trained):
    # Equal initial weights (the hook converts after MMEngine's random
    # init; converting before it draws other weights), then one SGD step:
    # a parameter the optimizer lost would differ by a whole update.
    assert trained[True].keys() == trained[False].keys()
    for key, value in trained[True].items():
        torch.testing.assert_close(value, trained[False][key], rtol=1e-4,
                                   atol=1e-6, msg=lambda m: f"{key}: {m}")


def test_enable_must_be_a_bool():
    assert ChannelsLastHook().enable and not ChannelsLastHook(False).enable
    with pytest.raises(TypeError, match='enable must be a bool'):
        ChannelsLastHook(enable='yes')
