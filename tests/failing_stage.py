"""A pipeline stage that fails on purpose (tests of the crawl's pipeline-error handling)."""

from pipelines.stage import Stage


class FailingStage(Stage):
    """Raises on any URL containing ``fail-me``, after the store stage wrote the document."""

    def process(self, item):
        if "fail-me" in item["url"]:
            raise RuntimeError("this stage fails on purpose")
        return item
