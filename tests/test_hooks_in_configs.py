"""Adding a hook to a zoo config: through ``default_hooks`` (a dict, which
merges) every base hook stays; a ``custom_hooks`` list replaces the base's
and drops ``SyncBuffersHook``, which ``tools/train.py`` then names before a
multi-process run (docs/training.md, "Attention maps")."""
import os.path as osp
import re
import textwrap
import warnings

import pytest
from mmengine.config import Config

from dctkd_mm.apis.train_cli import warn_if_buffers_unsynced
from utils import REPO_ROOT


def _docs_snippet(title: str) -> str:
    text = open(osp.join(REPO_ROOT, 'docs', 'training.md')).read()
    section = text.split(f'- **{title}.**', 1)[1]
    code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
    return textwrap.dedent(code)


def _child(tmp_path, body: str) -> Config:
    path = tmp_path / 'child.py'
    flagship = osp.join(REPO_ROOT, 'configs', 'dct_kd_r50_r18_places365.py')
    path.write_text(f'_base_ = [{flagship!r}]\n{body}')
    return Config.fromfile(str(path))


def test_the_documented_line_adds_the_attention_hook_and_keeps_the_rest(
        tmp_path):
    cfg = _child(tmp_path, _docs_snippet('Attention maps'))
    assert cfg.default_hooks.attention_maps.type == \
        'AttentionMapVisualizationHook'
    assert cfg.default_hooks.class_count.type == 'ClassCountCheckHook'
    assert [h.type for h in cfg.custom_hooks] == ['SyncBuffersHook']
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert not warn_if_buffers_unsynced(cfg, 8)


def test_a_replaced_custom_hooks_list_is_named_before_a_multi_process_run(
        tmp_path):
    cfg = _child(tmp_path, "custom_hooks = [dict(type="
                 "'AttentionMapVisualizationHook')]\n")
    with pytest.warns(UserWarning, match=r'8 processes will train without '
                      r'SyncBuffersHook.*default_hooks'):
        assert warn_if_buffers_unsynced(cfg, 8)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert not warn_if_buffers_unsynced(cfg, 1)  # one process: nothing
