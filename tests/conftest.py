import pytest

from utils import runner_state_restored


def pytest_configure(config):
    # Slow tests still run by default (CI runs them); `-m "not slow"`
    # skips them for a quick local loop.
    config.addinivalue_line(
        'markers', 'slow: end-to-end runs through tools/ (tens of seconds)')


@pytest.fixture
def restore_default_scope():
    """Runners and inferencers leave their default registry scope (and
    more, see ``utils.runner_state_restored``) set for the rest of the
    process; undo that after the test. Modules that build runners or
    inferencers use it with ``pytestmark =
    pytest.mark.usefixtures('restore_default_scope')``."""
    with runner_state_restored():
        yield
