from typing import Dict, List, Sequence, Union

import torch
from mmengine.evaluator import DumpResults, Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop, autocast
from mmrazor.registry import LOOPS
from torch.utils.data import DataLoader


@LOOPS.register_module()
class SingleTeacherDistillTestLoop(TestLoop):
    """Test loop for a distillation algorithm: the student, then the teacher.

    MMRazor only has ``SingleTeacherDistillValLoop``, and using it as the
    test loop breaks ``tools/test.py``: it calls the ``*_val_*`` hooks (so
    ``CheckpointHook`` tries to save a best checkpoint outside training and
    fails), returns no metrics, and runs the same evaluator for the teacher,
    so a ``DumpResults`` metric (``--out``) overwrites the student's
    predictions with the teacher's.

    Here the test hooks are called once around both passes, the student's
    metrics keep their names and the teacher's get a ``teacher.`` prefix
    (as in MMRazor's validation loop), ``run`` returns them, and
    ``DumpResults`` sees only the student, the model being tested. The
    teacher runs through the algorithm's data preprocessor, since its own
    (as built by MMRazor) does not normalise.

    Args:
        runner (Runner): A reference of runner.
        dataloader (Dataloader or dict): The test dataloader.
        evaluator (Evaluator or dict or list): Used for computing metrics.
        fp16 (bool): Whether to test under autocast. Defaults to False.
        evaluate_teacher (bool): Also evaluate the teacher. Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 evaluate_teacher: bool = True) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'teacher'):
            raise TypeError(
                f'{type(self).__name__} tests a distillation algorithm with '
                f'a `teacher`; {type(model).__name__} has none. Use '
                "test_cfg=dict(type='TestLoop') for a plain model.")
        self.algorithm = model
        self.evaluate_teacher = evaluate_teacher
        # The metric objects are shared (same dataset_meta), minus the dump.
        self.teacher_evaluator = Evaluator([
            m for m in self.evaluator.metrics
            if not isinstance(m, DumpResults)
        ])

    def run(self) -> dict:
        """Test the student, then the teacher; return all metrics."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        self.test_loss.clear()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))

        if self.evaluate_teacher and self.teacher_evaluator.metrics:
            for data_batch in self.dataloader:
                self.run_iter_teacher(data_batch)
            teacher_metrics = self.teacher_evaluator.evaluate(
                len(self.dataloader.dataset))
            metrics.update(
                {f'teacher.{k}': v
                 for k, v in teacher_metrics.items()})

        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    @torch.no_grad()
    def run_iter_teacher(self, data_batch: Sequence[dict]) -> None:
        """Predict one batch with the teacher (no hooks: the per-iteration
        hooks already ran for this batch in the student pass)."""
        with autocast(enabled=self.fp16):
            data = self.algorithm.data_preprocessor(data_batch, False)
            outputs = self.algorithm.teacher(**data, mode='predict')
        self.teacher_evaluator.process(
            data_samples=outputs, data_batch=data_batch)
