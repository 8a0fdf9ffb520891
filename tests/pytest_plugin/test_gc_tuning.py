"""The plugin's garbage-collector tuning: the heap is frozen after collection and at the end, and made
collectable again by a cleanup that runs after pytest's own."""

from __future__ import annotations

import gc

from conformance.pytest_plugin import gc_tuning


class FakeConfig:
    def __init__(self):
        self.cleanups = []

    def add_cleanup(self, function):
        self.cleanups.append(function)


def test_freezes_after_collection_and_at_the_end_then_unfreezes_in_its_cleanup():
    config = FakeConfig()
    try:
        gc_tuning.pytest_cmdline_main(config)
        assert config.cleanups == [gc.unfreeze]
        gc_tuning.pytest_collection_finish(session=None)
        after_collection = gc.get_freeze_count()
        assert after_collection > 0
        keep = [[] for _ in range(1000)]   # objects made during the run are frozen at the end too
        gc_tuning.pytest_unconfigure(config)
        # Less a few: a frozen object that another thread lets go of in between leaves the count (CI saw one).
        assert gc.get_freeze_count() >= after_collection + len(keep) - 100
        config.cleanups[0]()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_the_plugin_loads_the_tuning_with_itself():
    from conformance.pytest_plugin import plugin

    assert "conformance.pytest_plugin.gc_tuning" in plugin.pytest_plugins
