"""How different are the two transforms of ``DCTAttentionLoss`` as
objectives? The cosine between the gradients that the ``'dft_real'`` and
``'dct'`` losses send to the student's features, per stage, on the stage
outputs of randomly initialised MMPretrain ResNets (ResNet-18 student,
ResNet-50 teacher) for random 224 px inputs: 56, 28, 14 and 7 px maps.

A cosine near 1 would mean the two losses push the student the same way;
near 0, that they optimise different things.

Run::

    python -m dctkd_mm.benchmarks.transform_gradients [--seeds 0 1 2]
"""
import argparse
import json
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F


def resnet_stage_features(batch: int, size: int, seed: int):
    """Stage outputs of ResNet-18 and ResNet-50 with PyTorch's default
    initialisation, in train mode (batch statistics, as in distillation),
    for one random batch."""
    from mmpretrain.models import ResNet
    torch.manual_seed(seed)
    student = ResNet(depth=18, out_indices=(0, 1, 2, 3))
    teacher = ResNet(depth=50, out_indices=(0, 1, 2, 3))
    images = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        teachers = list(teacher(images))
        students = list(student(images))
    return students, teachers


def gradient_cosines(students: Sequence[torch.Tensor],
                     teachers: Sequence[torch.Tensor],
                     transforms=('dft_real', 'dct')) -> List[float]:
    """Per stage: cosine between the gradients of the two transforms'
    (ungated, batch-mean) losses with respect to the student feature."""
    from dctkd_mm.models.losses import DCTAttentionLoss
    cosines = []
    for s, t in zip(students, teachers):
        grads = []
        for transform in transforms:
            feat = s.detach().clone().requires_grad_()
            loss = DCTAttentionLoss(transform=transform)(feat, t)
            grads.append(torch.autograd.grad(loss, feat)[0].flatten())
        cosines.append(float(F.cosine_similarity(grads[0], grads[1],
                                                 dim=0)))
    return cosines


def measure(seeds: Sequence[int] = (0, ), batch: int = 8,
            size: int = 224) -> Dict[str, object]:
    per_seed = {}
    for seed in seeds:
        students, teachers = resnet_stage_features(batch, size, seed)
        sizes = [int(s.shape[-1]) for s in students]
        per_seed[seed] = gradient_cosines(students, teachers)
    return dict(batch=batch, input_px=size, map_px=sizes,
                cosine_per_seed={str(k): [round(c, 3) for c in v]
                                 for k, v in per_seed.items()})


def main(argv=None) -> dict:
    import dctkd_mm  # noqa: F401
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=224)
    args = parser.parse_args(argv)
    result = measure(args.seeds, args.batch, args.size)
    print(json.dumps(result, indent=1))
    return result


if __name__ == '__main__':
    main()
