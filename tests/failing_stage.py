"""A pipeline stage that fails on purpose (tests of the crawl's pipeline-error handling)."""

from pipelines.stage import Stage


class FailingStage(Stage):
    """Raises on any URL containing ``fail-me``, after the store stage wrote the document."""

    def process(self, item):
        if "fail-me" in item["url"]:
            raise RuntimeError("this stage fails on purpose")
        return item


class KillAfter(Stage):
    """Kills its own process (SIGKILL: no cleanup, no rollback) when the document numbered
    COLLECTOR_TEST_KILL_AFTER reaches it: the kill-and-resume tests of the link-worker."""

    seen = 0

    def process(self, item):
        import os
        import signal

        KillAfter.seen += 1
        if KillAfter.seen >= int(os.environ.get("COLLECTOR_TEST_KILL_AFTER", "0") or 0) > 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return item
