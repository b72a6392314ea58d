"""Refuse to train or evaluate when the dataset's class count differs from
a classification head's.

With 5 classes in the data and heads of 4, MMPretrain fails at the first
step with ``IndexError: Target 4 is out of bounds`` (naming nothing), or,
with fewer classes in the data than in the heads, trains without a word.
:class:`ClassCountCheckHook` compares the dataset's ``metainfo['classes']``
with the ``num_classes`` of every head in the model (student and teacher
of a distillation) before the first batch of training, validation and
testing, and names both numbers, the head and the dataset.
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


class ClassCountMismatchError(ValueError):
    """A dataset and a model head disagree on the number of classes."""


def check_class_counts(model, dataset, what: str) -> None:
    """Raise :class:`ClassCountMismatchError` if ``dataset`` has another
    number of classes than a head of ``model``."""
    if dataset is None:
        return
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    if classes is None:
        return
    model = model.module if is_model_wrapper(model) else model
    for name, module in model.named_modules():
        num_classes: Optional[int] = getattr(module, 'num_classes', None)
        if not name.endswith('head') or not isinstance(num_classes, int):
            continue
        if num_classes != len(classes):
            root = getattr(dataset, 'data_root', None)
            raise ClassCountMismatchError(
                f'The {what} dataset ({type(dataset).__name__}'
                f"{f' at {root!r}' if root else ''}) has {len(classes)} "
                f"classes, but the model's '{name}' has num_classes="
                f'{num_classes}. Set num_classes={len(classes)} for every '
                'head (student and teacher), or check the dataset (a stray '
                'directory or a wrong annotation file adds classes).')


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Check dataset/head class counts before training, validation and
    testing (see :func:`check_class_counts`)."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        check_class_counts(runner.model,
                           runner.train_dataloader.dataset, 'training')

    def before_val(self, runner) -> None:
        check_class_counts(runner.model, runner.val_dataloader.dataset,
                           'validation')

    def before_test(self, runner) -> None:
        check_class_counts(runner.model, runner.test_dataloader.dataset,
                           'test')
