"""Promise 3: bad input fails early, with a message naming the culprit.

Annotation files with a malformed line are covered by the dataset tests
(tests/test_datasets.py, ``*_bad_lines_name_file_and_line``).
"""
import copy
import shutil

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import DATASETS
from mmrazor.registry import MODELS

import utils
from dctkd_mm.datasets import CorruptImageError
from dctkd_mm.models.algorithms.distill_config_checks import \
    DistillConfigError
from dctkd_mm.models.losses import DCTAttentionLoss


def _model_cfg(distill_config, teacher_ckpt=None):
    model = copy.deepcopy(Config.fromfile(distill_config).model)
    model.teacher_ckpt = teacher_ckpt
    return model


# --- teacher checkpoint -----------------------------------------------------


def test_teacher_ckpt_for_other_classes_lists_mismatched_keys(
        distill_config, teacher_ckpt):
    model = _model_cfg(distill_config, teacher_ckpt)
    model.teacher.head.num_classes = utils.NUM_CLASSES + 1
    with pytest.raises(RuntimeError) as info:
        MODELS.build(model)
    message = str(info.value)
    assert teacher_ckpt in message and 'does not match' in message
    assert 'size mismatch for head.fc.weight' in message
    assert f'torch.Size([{utils.NUM_CLASSES}, 2048])' in message
    assert f'torch.Size([{utils.NUM_CLASSES + 1}, 2048])' in message


@pytest.mark.parametrize('depth, in_channels, expected', [
    # ResNet-18 from the ResNet-50 checkpoint: bottleneck convs left over,
    # the shared names with other shapes
    (18, 512, ['unexpected key', 'backbone.layer1.0.conv3.weight',
               'size mismatch for backbone.layer1.0.conv1.weight']),
    # ResNet-101: 17 more blocks in layer3 that the checkpoint lacks
    (101, 2048, ['missing keys', 'backbone.layer3.6.conv1.weight',
                 'backbone.layer3.22.conv3.weight']),
])
def test_teacher_ckpt_of_other_architecture_lists_keys(
        distill_config, teacher_ckpt, depth, in_channels, expected):
    model = _model_cfg(distill_config, teacher_ckpt)
    model.teacher.backbone.depth = depth  # a ResNet-50 checkpoint
    model.teacher.head.in_channels = in_channels
    with pytest.raises(RuntimeError) as info:
        MODELS.build(model)
    message = str(info.value)
    assert teacher_ckpt in message and 'does not match' in message
    for text in expected:
        assert text in message, text


def test_missing_teacher_ckpt_names_the_path(distill_config, tmp_path):
    path = str(tmp_path / 'no_such_teacher.pth')
    with pytest.raises(FileNotFoundError) as info:
        MODELS.build(_model_cfg(distill_config, path))
    assert path in str(info.value) and 'teacher_ckpt' in str(info.value)


# --- distiller config -------------------------------------------------------


def _mapping(model, loss='loss_dct'):
    return model.distiller.loss_forward_mappings[loss]


@pytest.mark.parametrize('break_config, expected', [
    # a recorder name MMRazor never checks (argument with a default)
    (lambda m: _mapping(m).t_logits.update(recorder='logitz'),
     ["['loss_dct']['t_logits']", "'logitz'", 'teacher_recorders',
      "'logits'", "'labels'"]),
    (lambda m: _mapping(m).s_feature.update(recorder='layer9'),
     ["['loss_dct']['s_feature']", "'layer9'", 'student_recorders',
      "'layer1'", "'layer4'"]),
    (lambda m: _mapping(m).s_feature.update(recorder='logits'),
     ["'logits' is a teacher recorder", 'from_student=False']),
    (lambda m: _mapping(m).t_feature.update(connector='t_amam'),
     ["['loss_dct']['t_feature']", "connector 't_amam'",
      "'t_amam_s1'"]),
    (lambda m: _mapping(m).update(s_feat=_mapping(m).pop('s_feature')),
     ["argument 's_feat'", 'DCTAttentionLoss.forward', "'s_feature'"]),
    (lambda m: _mapping(m).pop('t_feature'),
     ["required argument(s) 't_feature'", "loss 'loss_dct'"]),
    (lambda m: m.distiller.loss_forward_mappings.update(
        loss_dct_s9=dict(m.distiller.loss_forward_mappings.loss_dct)),
     ["'loss_dct_s9'", 'distill_losses', "'loss_dct'"]),
])
def test_distiller_config_errors_name_loss_argument_and_choices(
        distill_config, break_config, expected):
    model = _model_cfg(distill_config)
    break_config(model)
    with pytest.raises(DistillConfigError) as info:
        MODELS.build(model)
    for text in expected:
        assert text in str(info.value), (text, str(info.value))


@pytest.mark.parametrize('side, recorder, source, expected', [
    ('student', 'layer2', 'backbone.layer9',
     ["student_recorders['layer2']", "'backbone.layer9'", 'ImageClassifier',
      "'loss_dct.s_feature'", "Under 'backbone'", "'backbone.layer4'"]),
    ('teacher', 'logits', 'head.fcc',
     ["teacher_recorders['logits']", "'head.fcc'", "'loss_dct.t_logits'",
      "Closest names: 'head', 'head.fc'"]),
])
def test_recorder_source_missing_from_model_is_named(distill_config, side,
                                                     recorder, source,
                                                     expected):
    model = _model_cfg(distill_config)
    model.distiller[f'{side}_recorders'][recorder].source = source
    with pytest.raises(DistillConfigError) as info:
        MODELS.build(model)
    for text in expected:
        assert text in str(info.value), (text, str(info.value))


# --- features reaching the loss ---------------------------------------------


def test_different_scale_counts_are_named():
    loss = DCTAttentionLoss()
    feats = [torch.rand(2, 4, 8, 8) for _ in range(3)]
    with pytest.raises(ValueError) as info:
        loss(feats[:2], feats)
    assert 'student gives 2 scales but teacher gives 3' in str(info.value)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_feature_names_the_scale(bad):
    loss = DCTAttentionLoss()
    student = [torch.rand(2, 4, 8, 8) for _ in range(3)]
    teacher = [torch.rand(2, 4, 8, 8) for _ in range(3)]
    student[1][0, 0, 0, 0] = bad
    with pytest.raises(FloatingPointError) as info:
        loss(student, teacher)
    assert 'scale 1 (student)' in str(info.value)
    assert 'scale 0' not in str(info.value)


def test_nan_input_stops_a_flagship_train_step(distill_config):
    """The guard is on in the flagship config: a NaN image raises instead
    of taking a NaN optimizer step."""
    from mmengine.optim import OptimWrapper
    from mmpretrain.structures import DataSample
    model = MODELS.build(_model_cfg(distill_config))
    model.init_weights()
    inputs = [torch.full((3, 32, 32), float('nan')) for _ in range(2)]
    samples = [DataSample().set_gt_label(i) for i in range(2)]
    optim = OptimWrapper(torch.optim.SGD(model.student.parameters(), lr=0.1))
    before = model.student.backbone.conv1.weight.clone()
    with pytest.raises(FloatingPointError) as info:
        model.train_step(dict(inputs=inputs, data_samples=samples), optim)
    assert 'scale 0 (student)' in str(info.value)
    assert torch.equal(model.student.backbone.conv1.weight, before)


# --- images -----------------------------------------------------------------


def _dataset_with(tmp_path, tiny_data, damage, split='train',
                  backend='pillow'):
    """The tiny Places365 ``split`` through the flagship's pipeline for it,
    its image loading set to ``backend``, with the first image replaced by
    ``damage(bytes)``."""
    root = tmp_path / 'data'
    shutil.copytree(tiny_data, root)
    cfg = Config.fromfile(utils.FLAGSHIP_CONFIG)
    dataset_cfg = cfg[f'{split}_dataloader'].dataset
    load = dataset_cfg.pipeline[0]
    assert load == dict(type='CheckedLoadImageFromFile',
                        imdecode_backend='pillow')
    if backend != 'pillow':
        load.imdecode_backend = backend
    dataset = DATASETS.build(dict(dataset_cfg, data_root=str(root)))
    path = dataset.get_data_info(0)['img_path']
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(damage(data))
    return dataset, path


@pytest.mark.parametrize('damage', [
    lambda data: data[:len(data) // 2],
    lambda data: data[:-2],  # only the end-of-image marker lost
    lambda data: b'',
    lambda data: b'<html>404 Not Found</html>',
], ids=['half', 'no_eoi', 'empty', 'not_an_image'])
def test_corrupt_image_names_the_file(tmp_path, tiny_data, damage):
    dataset, path = _dataset_with(tmp_path, tiny_data, damage)
    dataset[1]  # the others still load
    with pytest.raises(CorruptImageError) as info:
        dataset[0]
    assert path in str(info.value)
    assert 'Corrupt or truncated image file' in str(info.value)


def test_truncated_png_names_the_file(tmp_path):
    import mmcv
    import numpy as np
    from dctkd_mm.datasets import CheckedLoadImageFromFile
    path = str(tmp_path / 'scene.png')
    mmcv.imwrite(np.random.randint(0, 255, (20, 20, 3), np.uint8), path)
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:-20])
    with pytest.raises(CorruptImageError) as info:
        CheckedLoadImageFromFile()(dict(img_path=path))
    assert path in str(info.value) and 'IEND' in str(info.value)


def _photo_jpeg(height, width, **save_args):
    """A real JPEG, encoded by Pillow, of a smooth noisy gradient."""
    import io

    import numpy as np
    from PIL import Image
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], -1)
    noise = np.random.default_rng(0).normal(0, 20, image.shape)
    pixels = np.clip(image + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, 'JPEG', quality=90, **save_args)
    return out.getvalue()


def _cut_with_end_marker(data):
    """Half the file is lost; an end-of-image marker follows the cut, so
    every segment header is intact."""
    return data[:len(data) // 2] + b'\xff\xd9'


def _middle_zeroed(data):
    """4 KiB of the entropy-coded data zeroed (a bad disk block)."""
    middle = len(data) // 2
    return data[:middle - 2048] + bytes(4096) + data[middle + 2048:]


@pytest.mark.parametrize('split, backend', [('train', 'pillow'),
                                            ('val', 'cv2')])
@pytest.mark.parametrize('damage, size, message', [
    (_cut_with_end_marker, (64, 80), 'premature end of data segment'),
    (_middle_zeroed, (256, 320), 'extraneous bytes before marker 0xd9'),
], ids=['half_plus_eoi', 'middle_zeroed'])
def test_jpeg_with_damaged_data_names_the_file(tmp_path, tiny_data, damage,
                                               size, message, split,
                                               backend):
    """Issue 17 F11: both files have every marker in place, so libjpeg only
    warns and returns grey rows (OpenCV prints the warning, Pillow drops
    it). Through the flagship's train pipeline (the config's Pillow
    decoder) and its test pipeline with MMCV's default OpenCV decoder."""
    data = _photo_jpeg(*size)
    dataset, path = _dataset_with(tmp_path, tiny_data,
                                  lambda _: damage(data), split, backend)
    dataset[1]  # the others still load
    with pytest.raises(CorruptImageError) as info:
        dataset[0]
    assert path in str(info.value)
    assert 'Corrupt or truncated image file' in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize('backend', ['pillow', 'cv2'])
@pytest.mark.parametrize('variant', ['baseline', 'progressive', 'trailer'])
def test_genuine_jpeg_variants_load_unchanged(tmp_path, tiny_data, variant,
                                              backend):
    """Progressive JPEGs, and bytes after the end-of-image marker (camera
    and editor trailers; libjpeg never reads them), are not damage: they
    load through the flagship's test pipeline, pixels equal to MMCV's own
    decode."""
    import mmcv
    import numpy as np
    data = _photo_jpeg(256, 320, progressive=variant == 'progressive')
    if variant == 'trailer':
        data += b'\x00\x00TRAILER written after the image\xff\xd9'
    dataset, path = _dataset_with(tmp_path, tiny_data, lambda _: data,
                                  'val', backend)
    assert tuple(dataset[0]['inputs'].shape) == (3, 224, 224)
    loaded = dataset.pipeline.transforms[0](dict(img_path=path))['img']
    np.testing.assert_array_equal(
        loaded, mmcv.imfrombytes(data, backend=backend))
