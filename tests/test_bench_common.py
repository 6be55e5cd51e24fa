"""bench/common: the report writer stamps its report, the loaders name what is missing, the
timer adds up, the CLI runner runs the real command; and no benchmark function is long."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import corpus  # noqa: E402
from bench.common.cli import Collector  # noqa: E402
from bench.common.report import Report, table  # noqa: E402
from bench.common.timing import StageTimer  # noqa: E402

LONGEST = 80


def test_report_prints_and_writes_a_stamped_copy(tmp_path, capsys):
    with Report("demo", out=tmp_path, command=["bench/demo.py", "--size", "3"]) as report:
        print("# Demo")
        report.table(["what", "seconds"], [["one", "1.5"], ["two", "2.0"]], title="Times")
    printed = capsys.readouterr().out
    written = (tmp_path / "demo.md").read_text()
    assert "| two | 2.0 |" in printed and printed in written
    stamp = re.search(r"Machine: (\d{4}-\d\d-\d\d \d\d:\d\d) UTC; (\d+) cores, (.+); Python (\d+\.\d+)", written)
    assert stamp, written
    assert "Command: `bench/demo.py --size 3`" in written


def test_table_is_markdown():
    assert table(["a", "b"], [[1, 2]]).splitlines() == ["| a | b |", "|---|---:|", "| 1 | 2 |"]


@pytest.mark.parametrize("loader", [corpus.zyte_pages, corpus.eval_pages, corpus.fundus_pages, corpus.bodies,
                                    corpus.html_files, corpus.seed_text])
def test_loaders_name_the_missing_folder(tmp_path, monkeypatch, loader):
    monkeypatch.setenv("COLLECTOR_SHARED", str(tmp_path / "nowhere"))
    with pytest.raises(corpus.CorpusMissing, match="nowhere.* is absent"):
        loader()
    with pytest.raises(SystemExit, match="is absent"):
        corpus.require(corpus.zyte_dir)


def test_loaders_read_the_shared_sets():
    try:
        pages = corpus.zyte_pages(limit=2) + corpus.fundus_pages(limit=2) + corpus.eval_pages(limit=2)
        seed = corpus.seed_text()
    except corpus.CorpusMissing as exc:
        pytest.skip(str(exc))
    assert len(pages) == 6 and all(page.data.lstrip()[:1] == b"<" or b"<html" in page.data[:4000].lower() for page in pages)
    assert "Originally appeared at Zero Hedge" in seed


def test_timer_adds_calls_and_wraps():
    timer = StageTimer()

    class Thing:
        def work(self, n):
            return sum(range(n))

    timer.wrap(Thing, "work", "thing:work")
    assert Thing().work(1000) == 499500 and Thing().work(10) == 45
    with timer.time("block"):
        pass
    data = timer.as_dict()
    assert data["calls"] == {"thing:work": 2, "block": 1} and data["wall"]["thing:work"] >= 0


def test_collector_runs_the_installed_command(tmp_path):
    if not Path(sys.executable).with_name("collector").exists():
        pytest.skip("the collector command is not installed beside this Python")
    result = Collector(tmp_path / "x.db").run("--help")
    assert result.returncode == 0 and "import" in result.stdout and result.seconds > 0


def long_functions(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_benchmark_function_is_long():
    assert long_functions(REPO / "bench") == []


def test_quick_reports_go_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_REPORTS", str(tmp_path / "quick"))
    with Report("demo", command=["bench/demo.py"]):
        print("small")
    assert (tmp_path / "quick" / "demo.md").read_text().endswith("small\n")


def test_benchmarks_find_what_they_read_in_the_code():
    """The names the benchmarks look up at run time exist: the thresholds the development
    set explains failures with, and the store calls the scale benchmark times."""
    from bench.devset.analysis import thresholds
    import importlib

    from bench.common.timing import targets
    from bench.scale.runs import TIME_CALLS

    assert thresholds(REPO).assumed == []
    missing = [f"{module}:{owner}.{method}" for _, module, owner, method in targets(TIME_CALLS)
               if not hasattr(getattr(importlib.import_module(module), owner, None), method)]
    assert missing == []
