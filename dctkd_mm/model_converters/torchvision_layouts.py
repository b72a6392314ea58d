"""torchvision ResNet-18/34/50/101/152 and MobileNetV2 parameter names ->
MMPretrain ``ImageClassifier`` names, with the architecture read off the
keys themselves."""
import re
from typing import Dict, List, Optional, Tuple

import torch

# (block type, blocks per stage) -> depth, as in torchvision's resnet*().
RESNET_DEPTHS = {
    ('basic', (2, 2, 2, 2)): 18,
    ('basic', (3, 4, 6, 3)): 34,
    ('bottleneck', (3, 4, 6, 3)): 50,
    ('bottleneck', (3, 4, 23, 3)): 101,
    ('bottleneck', (3, 8, 36, 3)): 152,
}
_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
_RESNET_KEY = re.compile(
    r'^(conv1\.weight|bn1\.' + _BN + r'|fc\.(weight|bias)|'
    r'layer[1-4]\.\d+\.(conv[1-3]\.weight|bn[1-3]\.' + _BN +
    r'|downsample\.0\.weight|downsample\.1\.' + _BN + r'))$')

# torchvision MobileNetV2 ``features.<b>`` (b = 1..17) -> MMPretrain
# ``layer<L>.<j>``: MMPretrain groups the 17 inverted residuals in 7 layers.
_MBV2_LAYER_SIZES = (1, 2, 3, 4, 3, 3, 1)
_MBV2_BLOCKS = [(layer + 1, j) for layer, n in enumerate(_MBV2_LAYER_SIZES)
                for j in range(n)]
_MBV2_KEY = re.compile(
    r'^(features\.(0|18)\.[01]\.|features\.(\d+)\.conv\.(\d)(\.[01])?\.|'
    r'classifier\.1\.)(.+)$')


class UnknownArchitectureError(ValueError):
    """The state dict is not one of the supported torchvision models."""


def detect_architecture(state_dict: Dict[str, torch.Tensor],
                        source: str) -> Tuple[str, int]:
    """``('resnet50', 365)``-style name and number of classes."""
    if 'features.0.0.weight' in state_dict:
        unknown = [k for k in state_dict if _mbv2_name(k) is None]
        _refuse_unknown(unknown, source, 'MobileNetV2')
        return 'mobilenet_v2', _num_classes(state_dict, 'classifier.1',
                                            source)
    if 'conv1.weight' in state_dict and 'layer1.0.conv1.weight' in state_dict:
        unknown = [k for k in state_dict if not _RESNET_KEY.match(k)]
        _refuse_unknown(unknown, source, 'ResNet')
        block = ('bottleneck' if 'layer1.0.conv3.weight' in state_dict else
                 'basic')
        counts = tuple(
            1 + max(int(k.split('.')[1]) for k in state_dict
                    if k.startswith(f'layer{i}.')) for i in range(1, 5))
        depth = RESNET_DEPTHS.get((block, counts))
        if depth is None:
            raise UnknownArchitectureError(
                f'{source}: a ResNet with {block} blocks {counts} per stage '
                f'is not a torchvision ResNet-18/34/50/101/152.')
        return f'resnet{depth}', _num_classes(state_dict, 'fc', source)
    raise UnknownArchitectureError(
        f'{source}: not a torchvision ResNet or MobileNetV2 state dict '
        f'(no conv1.weight + layer1.0.conv1.weight, no features.0.0.weight); '
        f'first keys: {list(state_dict)[:8]}.')


def _refuse_unknown(unknown: List[str], source: str, arch: str) -> None:
    if unknown:
        more = ' ...' if len(unknown) > 10 else ''
        raise UnknownArchitectureError(
            f'{source}: keys {unknown[:10]}{more} are not torchvision '
            f'{arch} parameters.')


def _num_classes(state_dict, fc: str, source: str) -> int:
    if f'{fc}.weight' not in state_dict:
        raise UnknownArchitectureError(
            f'{source}: no classifier weight {fc}.weight.')
    return int(state_dict[f'{fc}.weight'].shape[0])


def _mbv2_name(key: str) -> Optional[str]:
    match = _MBV2_KEY.match(key)
    if match is None:
        return None
    prefix, param = match.group(1), match.group(6)
    if prefix.startswith('classifier'):
        return f'head.fc.{param}'
    if match.group(2) is not None:  # features.0 (stem) or .18 (last conv)
        module = 'conv1' if match.group(2) == '0' else 'conv2'
        part = 'conv' if prefix.endswith('.0.') else 'bn'
        return f'backbone.{module}.{part}.{param}'
    block, index, sub = (int(match.group(3)), int(match.group(4)),
                         match.group(5))
    if not 1 <= block <= len(_MBV2_BLOCKS):
        return None
    layer, j = _MBV2_BLOCKS[block - 1]
    if sub is not None:  # conv.<i>.0 / conv.<i>.1: a conv-BN-ReLU6 group
        return (f'backbone.layer{layer}.{j}.conv.{index}.'
                f'{"conv" if sub == ".0" else "bn"}.{param}')
    # The linear projection: a bare conv then a BN, after 1 group (the
    # expand-ratio-1 block) or 2 groups (the others).
    groups = 1 if block == 1 else 2
    part = 'conv' if index == groups else 'bn'
    if index not in (groups, groups + 1):
        return None
    return f'backbone.layer{layer}.{j}.conv.{groups}.{part}.{param}'


def to_mmpretrain(state_dict: Dict[str, torch.Tensor],
                  arch: str) -> Dict[str, torch.Tensor]:
    """Rename ``state_dict`` (torchvision names of ``arch``) to MMPretrain
    ``ImageClassifier`` names."""
    if arch == 'mobilenet_v2':
        return {_mbv2_name(k): v for k, v in state_dict.items()}
    return {(f'head.{k}' if k.startswith('fc.') else f'backbone.{k}'): v
            for k, v in state_dict.items()}
