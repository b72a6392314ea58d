"""The runner's config text, formatted once per content.

MMEngine formats ``Config.pretty_text`` with yapf (about 1.5 s of CPU for
the flagship config) every time it needs the text: the environment log,
the dumped config, the visualizer's copy, the message hub's runtime info
and again in the meta of every checkpoint it saves. The text depends only
on the config's content, so it is computed once and reused until the
content changes.
"""
from mmengine.config import Config


class PrettyTextOnceConfig(Config):
    """A :class:`~mmengine.config.Config` whose ``pretty_text`` is MMEngine's,
    memoised on the config's content (its ``repr`` and the formatting
    switch): a changed config is formatted anew."""

    @property
    def pretty_text(self) -> str:
        key = (self._format_python_code, repr(self.to_dict()))
        memo = self.__dict__.get('_pretty_text_memo')
        if memo is not None and memo[0] == key:
            return memo[1]
        text = Config.pretty_text.fget(self)
        object.__setattr__(self, '_pretty_text_memo', (key, text))
        return text


def format_text_once(cfg: Config) -> Config:
    """``cfg`` itself, its ``pretty_text`` memoised (see
    :class:`PrettyTextOnceConfig`); the runner's deep copy keeps the
    class."""
    if type(cfg) is Config:
        # Config.__setattr__ would store the attribute in the config.
        object.__setattr__(cfg, '__class__', PrettyTextOnceConfig)
    return cfg
