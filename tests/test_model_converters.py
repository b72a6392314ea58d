"""tools/model_converters/torchvision_to_mmpretrain.py: every source format
is written here in its real on-disk form (zip and legacy pickles, with and
without DataParallel's ``module.``), converted, and the converted MMPretrain
model's logits are compared with torchvision's on the same input."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
import torchvision
from mmengine.config import Config

from dctkd_mm.model_converters import (OverwriteInputError,
                                       UnknownArchitectureError,
                                       UnrecognisedCheckpointError,
                                       build_classifier, convert_checkpoint)
from dctkd_mm.model_converters.convert_cli import main as convert_main
from utils import FLAGSHIP_CONFIG, REPO_ROOT

TOOL = osp.join(REPO_ROOT, 'tools', 'model_converters',
                'torchvision_to_mmpretrain.py')
NUM_CLASSES = 5


def torchvision_model(arch, num_classes=NUM_CLASSES, seed=0):
    """A torchvision model with random weights and BN statistics (so a
    wrongly mapped buffer shows in the logits), in eval mode."""
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(num_classes=num_classes)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.1, 0.1)
    return model.eval()


def save(obj, path, legacy):
    torch.save(obj, str(path), _use_new_zipfile_serialization=not legacy)
    return str(path)


def csail_checkpoint(model, arch):
    """CSAIL's Places365 layout: DataParallel keys, no
    ``num_batches_tracked`` (PyTorch 0.3), metadata beside the weights."""
    state_dict = {f'module.{k}': v for k, v in model.state_dict().items()
                  if not k.endswith('num_batches_tracked')}
    return {'epoch': 90, 'arch': arch, 'state_dict': state_dict,
            'best_prec1': 54.65}


def authors_checkpoint(model, arch):
    """The authors' ``<ARCH>_<DATASET>_best.pth.tar`` (trainCNNs.py)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                                weight_decay=1e-4)
    model.zero_grad()
    return {
        'epoch': 42,
        'CONFIG': {'MODEL': {'ARCH': arch, 'PRETRAINED': 'None'},
                   'TRAINING': {'OPTIMIZER': {'LR': 0.1}}},
        'model_state_dict': model.state_dict(),
        'optimizer_state_dict': optimizer.state_dict(),
        'best_loss_train': 2.1, 'best_loss_val': 2.4,
        'best_prec_train': 61.0, 'best_prec_val': 49.26,
        'time_per_epoch': 93.5,
        # as trainCNNs.py computes it: a numpy int64
        'model_parameters': sum(np.prod(p.size())
                                for p in model.parameters()),
    }


def converted_logits(path, arch, num_classes, inputs):
    loaded = torch.load(path, map_location='cpu', weights_only=True)
    model = build_classifier(arch, num_classes).eval()
    model.load_state_dict(loaded['state_dict'], strict=True)
    with torch.no_grad():
        return model(inputs, mode='tensor')


FORMATS = {
    'torchvision-zip': (lambda m, a: m.state_dict(), False),
    'torchvision-legacy': (lambda m, a: m.state_dict(), True),
    'torchvision-module-prefix': (
        lambda m, a: {f'module.{k}': v for k, v in m.state_dict().items()},
        False),
    'csail-legacy': (csail_checkpoint, True),
    'csail-zip': (csail_checkpoint, False),
    'authors-zip': (authors_checkpoint, False),
    'authors-legacy': (authors_checkpoint, True),
}
EXPECTED_FORMAT = {'torchvision': 'torchvision', 'csail': 'csail',
                   'authors': 'authors'}


@pytest.mark.parametrize('fmt', sorted(FORMATS))
def test_each_format_converts_to_torchvisions_logits(fmt, tmp_path):
    model = torchvision_model('resnet18')
    make, legacy = FORMATS[fmt]
    src = save(make(model, 'resnet18'), tmp_path / 'src.pth.tar', legacy)
    info = convert_checkpoint(src, str(tmp_path / 'out' / 'converted.pth'))
    assert (info.arch, info.num_classes) == ('resnet18', NUM_CLASSES)
    assert info.source_format == fmt.split('-')[0]
    assert info.added_bn_counters == (20 if fmt.startswith('csail') else 0)
    inputs = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(inputs)
    torch.testing.assert_close(
        converted_logits(info.dst, 'resnet18', NUM_CLASSES, inputs),
        expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('arch', ['resnet34', 'resnet50', 'resnet101',
                                  'resnet152', 'mobilenet_v2'])
def test_every_supported_architecture(arch, tmp_path):
    model = torchvision_model(arch, num_classes=3)
    src = save(model.state_dict(), tmp_path / f'{arch}.pth', False)
    info = convert_checkpoint(src, str(tmp_path / 'converted.pth'))
    assert (info.arch, info.num_classes) == (arch, 3)
    inputs = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        expected = model(inputs)
    torch.testing.assert_close(
        converted_logits(info.dst, arch, 3, inputs), expected,
        rtol=1e-4, atol=1e-5)


def _zoo_part(config, part):
    """The zoo's model for ``part`` ('architecture' = student, 'teacher')
    of a real distillation config."""
    from mmengine.registry import MODELS, DefaultScope
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', config))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model[part])


@pytest.mark.parametrize('arch,config,part', [
    ('mobilenet_v2', 'distill/dct/dct_resnet50_mobilenet-v2_1xb128-70e_'
     'mit67.py', 'architecture'),
    ('resnet34', 'distill/kd/kd_resnet152_resnet34_1xb128-70e_mit67.py',
     'architecture'),
])
def test_converted_students_load_strictly_into_the_zoo(arch, config, part,
                                                        tmp_path):
    model = torchvision_model(arch, num_classes=67)
    src = save(model.state_dict(), tmp_path / 'src.pth', False)
    info = convert_checkpoint(src, str(tmp_path / 'converted.pth'))
    zoo_model = _zoo_part(config, part).eval()  # dropout off
    state = torch.load(info.dst, map_location='cpu',
                       weights_only=True)['state_dict']
    zoo_model.load_state_dict(state, strict=True)
    inputs = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(zoo_model(inputs, mode='tensor'),
                                   model(inputs), rtol=1e-4, atol=1e-5)


def test_csail_resnet50_loads_strictly_into_the_flagship_teacher(tmp_path):
    """The done-criterion: CSAIL's Places365 ResNet-50 layout (legacy
    pickle, ``module.``, 365 classes), converted by the tool, is loaded
    strictly by FrozenTeacherDistill from the flagship config, and the
    teacher's logits equal torchvision's."""
    from mmengine.registry import DefaultScope
    from mmrazor.registry import MODELS
    model = torchvision_model('resnet50', num_classes=365)
    src = save(csail_checkpoint(model, 'resnet50'),
               tmp_path / 'resnet50_places365.pth.tar', legacy=True)
    dst = tmp_path / 'checkpoints' / 'resnet50_places365.pth'
    result = subprocess.run([sys.executable, TOOL, src, str(dst)],
                            capture_output=True, text=True, timeout=300,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert 'csail checkpoint: resnet50, 365 classes' in result.stdout

    cfg = Config.fromfile(FLAGSHIP_CONFIG)
    assert cfg.model.teacher_ckpt == 'checkpoints/resnet50_places365.pth'
    cfg.model.teacher_ckpt = str(dst)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        distill = MODELS.build(cfg.model)
    assert type(distill).__name__ == 'FrozenTeacherDistill'
    inputs = torch.rand(2, 3, 64, 64)
    distill.teacher.eval()
    with torch.no_grad():
        torch.testing.assert_close(distill.teacher(inputs, mode='tensor'),
                                   model(inputs), rtol=1e-4, atol=1e-5)


def test_unknown_top_level_keys_are_named(tmp_path):
    model = torchvision_model('resnet18')
    ckpt = csail_checkpoint(model, 'resnet18')
    ckpt['scheduler'] = {'step': 3}
    src = save(ckpt, tmp_path / 'x.pth', False)
    with pytest.raises(UnrecognisedCheckpointError, match=r"\['scheduler'\]"):
        convert_checkpoint(src, str(tmp_path / 'y.pth'))
    src = save({'weights': 1, 'notes': 'x'}, tmp_path / 'z.pth', False)
    with pytest.raises(UnrecognisedCheckpointError,
                       match=r"top-level keys \['notes', 'weights'\]"):
        convert_checkpoint(src, str(tmp_path / 'y.pth'))
    assert not osp.exists(tmp_path / 'y.pth')


def test_unknown_parameters_and_architectures_are_named(tmp_path):
    state = torchvision_model('resnet18').state_dict()
    state['layer1.0.se.fc.weight'] = torch.zeros(4, 4)
    src = save(state, tmp_path / 'x.pth', False)
    with pytest.raises(UnknownArchitectureError,
                       match=r"layer1.0.se.fc.weight.*not torchvision ResNet"):
        convert_checkpoint(src, str(tmp_path / 'y.pth'))
    vgg = {'features.0.weight': torch.zeros(64, 3, 3, 3),
           'classifier.6.weight': torch.zeros(10, 4096)}
    src = save(vgg, tmp_path / 'vgg.pth', False)
    with pytest.raises(UnknownArchitectureError,
                       match=r'not a torchvision ResNet or MobileNetV2'):
        convert_checkpoint(src, str(tmp_path / 'y.pth'))


def test_already_converted_checkpoints_are_refused(tmp_path):
    model = torchvision_model('resnet18')
    src = save(model.state_dict(), tmp_path / 'src.pth', False)
    dst = str(tmp_path / 'converted.pth')
    convert_checkpoint(src, dst)
    with pytest.raises(UnrecognisedCheckpointError,
                       match='already in MMPretrain'):
        convert_checkpoint(dst, str(tmp_path / 'again.pth'))


def test_tool_exits_1_naming_the_problem(tmp_path, capsys):
    """The tool's ``main`` (the file exits with its return value, see
    the subprocess in the CSAIL test above) returns 1 and names the file
    and its keys on stderr."""
    src = save({'anything': torch.zeros(1)}, tmp_path / 'odd.pth', False)
    assert convert_main([src, str(tmp_path / 'out.pth')]) == 1
    stderr = capsys.readouterr().err
    assert 'odd.pth' in stderr and 'anything' in stderr
    assert not osp.exists(tmp_path / 'out.pth')


def test_source_is_never_overwritten_without_force(tmp_path, monkeypatch,
                                                   capsys):
    """DST naming SRC under any spelling (the same string, ``./x`` vs
    ``x``, a symlink, a hard link) is refused before anything is read,
    naming the path and ``--force``; the file is unchanged."""
    model = torchvision_model('resnet18')
    src = save(dict(model.state_dict()), tmp_path / 'x.pth', False)
    original = open(src, 'rb').read()
    os.symlink(src, tmp_path / 'link.pth')
    os.link(src, tmp_path / 'hard.pth')
    monkeypatch.chdir(tmp_path)
    for dst in (src, './x.pth', str(tmp_path / 'sub' / '..' / 'x.pth'),
                'link.pth', 'hard.pth'):
        with pytest.raises(OverwriteInputError) as info:
            convert_checkpoint('x.pth', dst)
        assert 'x.pth' in str(info.value) and '--force' in str(info.value)
    assert open(src, 'rb').read() == original

    # The command line (the tool's ``main``) exits 1 the same way.
    capsys.readouterr()
    assert convert_main([src, './x.pth']) == 1
    stderr = capsys.readouterr().err
    assert src in stderr and '--force' in stderr
    assert open(src, 'rb').read() == original

    # --force replaces it (through a temporary file) with the conversion.
    assert convert_main([src, './x.pth', '--force']) == 0
    converted = torch.load(src)
    assert converted['meta']['converted_from'] == 'x.pth'
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.partial')]


def test_keys_read_from_the_file_are_shown_bounded(tmp_path):
    """Issue 17: a refusal quotes the file's keys by a short prefix and at
    most 12 of them, whatever their length or number."""
    keys = {'k' * 1_000_000: 1, **{f'extra{i}': i for i in range(50)}}
    src = str(tmp_path / 'long.pth')
    torch.save(keys, src)
    with pytest.raises(UnrecognisedCheckpointError) as info:
        convert_checkpoint(src, str(tmp_path / 'y.pth'))
    message = str(info.value)
    assert len(message) < 2000 and 'and 39 more' in message
