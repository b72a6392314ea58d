"""The runner's config text is computed once per content
(dctkd_mm.apis.config_text), and a changed config gets a new one."""
from mmengine.config import Config

from dctkd_mm.apis.config_text import PrettyTextOnceConfig, format_text_once


def test_text_is_reused_until_the_content_changes():
    cfg = format_text_once(Config(dict(model=dict(type='X', depth=18))))
    assert type(cfg) is PrettyTextOnceConfig
    first = cfg.pretty_text
    assert cfg.pretty_text is first  # the memo, not a new string
    assert Config.fromstring(first, '.py').model.depth == 18
    cfg.model.depth = 50
    changed = cfg.pretty_text
    assert changed is not first
    assert Config.fromstring(changed, '.py').model.depth == 50
    # The runner works on a deep copy: it keeps the class, and the memo
    # is not stored in the config's content.
    copy = cfg.copy()
    assert type(copy) is PrettyTextOnceConfig
    assert '_pretty_text_memo' not in copy.to_dict()
