"""From a collated batch to one attention figure per image."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from .attention_panels import (build_panels, render_attention_figure,
                               to_display_image)
from .stage_features import StagePair, eval_mode, forward_stages


def _prediction(logits: torch.Tensor, i: int,
                classes: Optional[Sequence[str]]) -> str:
    scores = logits[i].float().softmax(dim=-1)
    score, label = scores.max(dim=-1)
    name = classes[int(label)] if classes else str(int(label))
    return f'{name} ({float(score):.2f})'


def _ground_truth(batch: dict, i: int,
                  classes: Optional[Sequence[str]]) -> Optional[str]:
    samples = batch.get('data_samples')
    if not samples or i >= len(samples) or 'gt_label' not in samples[i]:
        return None
    label = int(samples[i].gt_label.reshape(-1)[0])
    return classes[label] if classes else str(label)


def attention_figures(teacher: nn.Module,
                      student: nn.Module,
                      batch: dict,
                      pairs: Sequence[StagePair],
                      teacher_preprocessor: nn.Module,
                      student_preprocessor: Optional[nn.Module] = None,
                      p: float = 2,
                      classes: Optional[Sequence[str]] = None,
                      bgr: bool = True,
                      transform: str = 'dft_real') -> List[Dict]:
    """Run teacher and student on ``batch`` and draw each image's panels.

    Args:
        teacher, student: MMPretrain classifiers (``mode='tensor'`` gives
            logits).
        batch (dict): Collated ``inputs`` (uint8 images as packed by the
            test pipeline) and optionally ``data_samples``.
        pairs: The scales to draw.
        teacher_preprocessor: Data preprocessor for the teacher, and for
            the student too unless ``student_preprocessor`` is given (a
            distiller has one for both).
        p (float): Exponent of the attention maps.
        classes: Class names for the titles; indices if None.
        bgr (bool): Whether ``inputs`` are BGR, as MMCV loads them.
        transform (str): The loss's transform, for the spectra and the
            per-scale distances (:func:`loss_transform` reads it from a
            distiller).

    Returns:
        list[dict]: Per image: ``figure`` (H, W, 3 uint8 RGB), ``panels``
        (as :func:`build_panels`), ``image`` (the displayed input) and
        ``teacher_pred`` / ``student_pred`` (top-1 ``'class (score)'``).
    """
    student_preprocessor = student_preprocessor or teacher_preprocessor
    with eval_mode(teacher, student):
        t_feats, t_logits = forward_stages(
            teacher, teacher_preprocessor, batch,
            [pair.teacher_source for pair in pairs])
        s_feats, s_logits = forward_stages(
            student, student_preprocessor, batch,
            [pair.student_source for pair in pairs])
    panels = build_panels(t_feats, s_feats, p, transform)
    names = [pair.name for pair in pairs]
    results = []
    for i, image_panels in enumerate(panels):
        image = to_display_image(batch['inputs'][i], bgr=bgr)
        t_pred = _prediction(t_logits, i, classes)
        s_pred = _prediction(s_logits, i, classes)
        title = f'teacher: {t_pred}   student: {s_pred}'
        truth = _ground_truth(batch, i, classes)
        if truth is not None:
            title = f'label: {truth}   ' + title
        figure = render_attention_figure(image, image_panels, names, title)
        results.append(
            dict(figure=figure, panels=image_panels, image=image,
                 teacher_pred=t_pred, student_pred=s_pred))
    return results


def panels_to_arrays(panels: Sequence[Dict[str, np.ndarray]],
                     names: Sequence[str]) -> Dict[str, np.ndarray]:
    """Flatten one image's panels to ``{'<scale>/<key>': array}`` (for
    ``np.savez``)."""
    return {f'{name}/{key}': np.asarray(value)
            for name, panel in zip(names, panels)
            for key, value in panel.items()}
