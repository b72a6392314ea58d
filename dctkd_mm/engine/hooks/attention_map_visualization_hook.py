"""Log teacher/student attention maps and their spectra during distillation."""
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dataset import Compose, pseudo_collate
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from dctkd_mm.visualization import (attention_figures, default_stage_pairs,
                                    loss_transform, stage_pairs_from_distiller)

_SOURCES = ('val', 'train')


@HOOKS.register_module()
class AttentionMapVisualizationHook(Hook):
    """Every ``interval`` training iterations, draw the teacher's and the
    student's attention maps and their spectra for a fixed set of images and
    send the figures to the runner's visualizer backends
    (``LocalVisBackend`` writes ``vis_data/vis_image/<name>_<iter>.png``;
    ``TensorboardVisBackend`` / ``WandbVisBackend`` log them as images).

    The images are chosen once, before training, and always go through the
    test pipeline, so successive figures differ only by what the student
    learned. Scales are the feature pairs the distiller's losses compare.
    Only the main process draws; the forward passes run in eval mode under
    ``no_grad`` on the unwrapped model and leave its mode as it was.

    Args:
        interval (int): Draw every ``interval`` iterations. Defaults to 500.
        num_samples (int): Number of images. Defaults to 4.
        source (str): ``'val'`` to take them from the validation dataset
            (through its own pipeline) or ``'train'`` (through ``pipeline``,
            else the val/test dataloader's pipeline). ``'val'`` falls back to
            ``'train'`` when the run has no validation loop.
            Defaults to ``'val'``.
        indices (Sequence[int], optional): Dataset indices to draw; by
            default ``num_samples`` evenly spaced ones, so class-sorted
            datasets still give several classes.
        pipeline (list[dict], optional): Pipeline applied to the raw data
            infos instead of the dataset's own.
        stages (Sequence[str], optional): Module paths to draw on both
            models; by default the distiller's feature pairs.
        p (float): Exponent of the attention maps. Defaults to 2.
        draw_before_train (bool): Also draw at iteration 0, before any
            update. Defaults to False.
        name (str): Image name prefix. Defaults to ``'attention'``.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 500,
                 num_samples: int = 4,
                 source: str = 'val',
                 indices: Optional[Sequence[int]] = None,
                 pipeline: Optional[List[dict]] = None,
                 stages: Optional[Sequence[str]] = None,
                 p: float = 2,
                 draw_before_train: bool = False,
                 name: str = 'attention') -> None:
        if interval < 1 or num_samples < 1:
            raise ValueError('AttentionMapVisualizationHook: interval and '
                             f'num_samples must be >= 1, got {interval} '
                             f'and {num_samples}')
        if source not in _SOURCES:
            raise ValueError('AttentionMapVisualizationHook: source must be '
                             f'one of {_SOURCES}, got {source!r}')
        self.interval = interval
        self.num_samples = num_samples
        self.source = source
        self.indices = list(indices) if indices is not None else None
        self.pipeline = pipeline
        self.stages = list(stages) if stages is not None else None
        self.p = p
        self.draw_before_train = draw_before_train
        self.name = name
        self._batch = None
        self._pairs = None
        self._classes = None
        self._transform = 'dft_real'

    def before_train(self, runner) -> None:
        if not is_main_process():
            return
        algorithm = self._algorithm(runner)
        self._pairs = (default_stage_pairs(self.stages) if self.stages else
                       stage_pairs_from_distiller(algorithm.distiller))
        self._transform = loss_transform(algorithm.distiller)
        self._batch = self._fixed_batch(runner)
        if self.draw_before_train:
            self._draw(runner, step=runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self._batch is not None and self.every_n_train_iters(
                runner, self.interval):
            self._draw(runner, step=runner.iter + 1)

    @staticmethod
    def _algorithm(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        missing = [a for a in ('teacher', 'student', 'distiller')
                   if not hasattr(model, a)]
        if missing:
            raise TypeError(
                'AttentionMapVisualizationHook needs a distillation model '
                f'with a teacher, a student and a distiller; '
                f'{type(model).__name__} has no {missing}')
        return model

    def _draw(self, runner, step: int) -> None:
        algorithm = self._algorithm(runner)
        results = attention_figures(
            algorithm.teacher, algorithm.student, self._batch, self._pairs,
            algorithm.data_preprocessor, p=self.p, classes=self._classes,
            transform=self._transform)
        for i, result in enumerate(results):
            runner.visualizer.add_image(f'{self.name}_{i}', result['figure'],
                                        step=step)

    def _fixed_batch(self, runner) -> dict:
        """Collate the chosen samples once, through the test pipeline."""
        source = self.source
        if source == 'val' and runner.val_loop is None:
            runner.logger.warning(
                'AttentionMapVisualizationHook: no validation loop, drawing '
                'training images through the test pipeline instead.')
            source = 'train'
        loader = (runner.val_dataloader
                  if source == 'val' else runner.train_dataloader)
        dataset = loader.dataset
        metainfo = getattr(dataset, 'metainfo', None) or {}
        self._classes = metainfo.get('classes')
        indices = self.indices
        if indices is None:
            count = min(self.num_samples, len(dataset))
            indices = np.linspace(0, len(dataset) - 1, count).round()
        indices = [int(i) for i in indices]
        if not indices:
            raise ValueError('AttentionMapVisualizationHook: the '
                             f'{source} dataset is empty')
        pipeline = self.pipeline
        if pipeline is None and source == 'train':
            pipeline = self._test_pipeline(runner.cfg)
        if pipeline is None:
            samples = [dataset[i] for i in indices]
        else:
            transform = Compose(pipeline)
            samples = [transform(dataset.get_data_info(i)) for i in indices]
        return pseudo_collate(samples)

    @staticmethod
    def _test_pipeline(cfg) -> List[dict]:
        for key in ('val_dataloader', 'test_dataloader'):
            loader = cfg.get(key) or {}
            pipeline = loader.get('dataset', {}).get('pipeline')
            if pipeline:
                return pipeline
        raise ValueError(
            'AttentionMapVisualizationHook: source="train" needs a test '
            'pipeline; set `pipeline` or give the config a val/test '
            'dataloader.')
