def pytest_configure(config):
    # Slow tests still run by default (CI runs them); `-m "not slow"`
    # skips them for a quick local loop.
    config.addinivalue_line(
        'markers', 'slow: end-to-end runs through tools/ (tens of seconds)')
