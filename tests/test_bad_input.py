"""Bad input: each broken file is one line on stderr naming it (and its line or record) and the
reason; everything else is imported; the exit status is 0 unless nothing could be imported.
Interrupted imports (SIGKILL, Ctrl-C, SIGTERM) leave a consistent database that the same import
run again completes, without duplicates.

All text is fiction written here or by ``textgen``.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc

import pytest
from conftest import REPO, assert_fts_matches_documents, invoke_cli, rows, run_cli
from textgen import article

from collector.importers import Problem, read_file, reading
from collector.importers.decoding import NotText, decode
from collector.ingest import import_paths

HW = "https://harbourwatch.example"
MW = "https://morningwire.example"

# Fictional news in legacy encodings (the text each must decode back to).
RUSSIAN = (
    "Паромная переправа получит новый причал\n"
    "Городской совет утвердил строительство второго причала для паромов на северном берегу залива.\n"
    "Жители островов давно жаловались на очереди в часы пик, сообщил председатель комиссии по транспорту.\n"
)
FRENCH = (
    "Le phare de la pointe rouvre ses portes\n"
    "Après deux années de travaux, le gardien a rallumé la lampe devant une foule émue sur la jetée.\n"
    "La mairie prévoit des visites guidées chaque été, à côté du marché aux poissons de la côte.\n"
)
CAFE = (
    "Café “Le Môle” reopens on the quay\n"
    "The harbour café reopened on Monday – with crêpes, a new façade and the old owner’s recipes.\n"
    "Regulars said the coffee tasted the same, which everyone agreed was the whole point of the work.\n"
)
JAPANESE = (
    "港の新しいフェリー時刻表が決まる\n"
    "港湾評議会は火曜日の夜、冬季の新しいフェリー時刻表を承認しました。北部の島々からの通勤者には朝の便が追加されます。\n"
    "運航会社によると、その時間帯は船が停泊しているため、変更の費用はほとんどかからないとのことです。\n"
)


def txt(seed: int) -> str:
    title, paras = article(seed, paragraphs=3)
    return "\n".join([title, *paras]) + "\n"


def billion_laughs(paragraph: str) -> str:
    entities = '<!ENTITY lol "lol">\n' + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">\n' for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE html [\n{entities}]>\n'
        f"<html><head><title>Laughing matter</title></head><body><article>"
        f"<p>&lol9;</p><p>{paragraph}</p></article></body></html>\n"
    )


def external_entity(secret_path, paragraph: str) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret_path}">]>\n'
        f"<html><head><title>Entity test</title></head><body><article>"
        f"<p>&xxe;</p><p>{paragraph}</p></article></body></html>\n"
    )


# --- one CLI import of good and bad files together ----------------------------------------------

@pytest.fixture(scope="module")
def bad_run(tmp_path_factory, module_config_dir, html_page, write_warc):
    root = tmp_path_factory.mktemp("bad")
    inputs = root / "inputs"
    inputs.mkdir()
    rnd = random.Random(7)
    problems = {}  # path (as given to the CLI, relative to nothing) -> regex of the reason

    def put(name: str, data, reason: str | None = None):
        path = inputs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        if reason:
            problems[str(path)] = reason
        return path

    # good files, among them legacy encodings, which must decode correctly
    put("good/ok.txt", txt(301))
    put("legacy/ferry-cp1251.txt", RUSSIAN.encode("cp1251"))
    put("legacy/phare-latin1.txt", FRENCH.encode("latin-1"))
    put("legacy/cafe-cp1252.txt", CAFE.encode("cp1252"))
    put("legacy/ferry-shift-jis.txt", JAPANESE.encode("shift_jis"))
    title, *paras = RUSSIAN.splitlines()
    put("legacy/undeclared-cp1251.html", html_page(title, paras).replace('<meta charset="utf-8">', "").encode("cp1251"))
    # bad files
    put("bad/empty.txt", b"", r"empty")
    put("bad/blank.html", b"  \n\t\n", r"empty")
    put("bad/junk.txt", bytes(rnd.randrange(256) for _ in range(4000)) + b"\0", r"binary")
    put("bad/noise.html", bytes(rnd.randrange(1, 256) for _ in range(4000)), r"binary|unknown encoding|not an HTML page")
    put("bad/report.html", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n", r"PDF")
    put("bad/scan.htm", b"%PDF-1.7\n" + bytes(rnd.randrange(256) for _ in range(2000)), r"PDF")
    put("bad/photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(rnd.randrange(256) for _ in range(500)), r"PNG")
    put("bad/plain.txt.gz", txt(302), r"named \.gz but not gzip")
    packed = gzip.compress(("\n".join(txt(303 + i) for i in range(20))).encode())
    put("bad/cut.txt.gz", packed[: len(packed) // 2], r"truncated gzip")
    zeros = put("bad/zeros.txt.gz", b"", r"binary")  # a gzip bomb: 50 MB of zeros in 50 KB
    with gzip.open(zeros, "wb", compresslevel=1) as out:
        for _ in range(50):
            out.write(bytes(1_000_000))
    put("bad/notes.warc", "These are my notes about the harbour.\nNothing here is an archive.\n", r"not a WARC")
    # WARCs cut short: the whole records before the cut are imported
    ends = write_warc(inputs / "bad/cut.warc.gz", [
        {"url": f"{MW}/cut/{i}", "html": html_page(*article(310 + i))} for i in range(3)
    ])
    data = (inputs / "bad/cut.warc.gz").read_bytes()
    put("bad/cut.warc.gz", data[: ends[1] + (ends[2] - ends[1]) // 2], r"truncated")
    ends = write_warc(inputs / "bad/cut.warc", [{"url": f"{HW}/cut/{i}", "html": html_page(*article(320 + i))} for i in range(3)])
    data = (inputs / "bad/cut.warc").read_bytes()
    put("bad/cut.warc", data[: ends[1] + (ends[2] - ends[1]) // 2], r"truncated")
    problems[f"{inputs / 'bad/cut.warc.gz'} record 3"] = problems.pop(str(inputs / "bad/cut.warc.gz"))
    problems[f"{inputs / 'bad/cut.warc'} record 3"] = problems.pop(str(inputs / "bad/cut.warc"))
    # JSON Lines: a page named .jsonl, prose named .jsonl, and bad lines among good ones
    put("bad/page.jsonl", html_page(*article(330)), r"HTML, not JSON Lines")
    put("bad/prose.jsonl", "".join(f"Line {i} of a letter to the editor about the ferry.\n" for i in range(8)), r"not JSON Lines")
    t1, p1 = article(331)
    t2, p2 = article(332)
    t3, p3 = article(333)
    mixed = put("mixed.jsonl", "\n".join([
        json.dumps({"url": f"{MW}/j/1", "title": t1, "text": "\n".join(p1)}),
        '{"url": "https://morningwire.example/j/broken", "text": "unterminated',
        json.dumps({"url": f"{MW}/j/3", "title": t2, "text": "\n".join(p2)}),
        json.dumps(["an", "array"]),
        json.dumps({"url": f"{MW}/j/5", "title": t3, "text": "\n".join(p3)}),
        json.dumps({"url": f"{MW}/j/6", "title": "No body"}),
    ]) + "\n")
    problems[f"{mixed} line 2"] = r"not JSON"
    problems[f"{mixed} line 4"] = r"not a JSON object"
    problems[f"{mixed} line 6"] = r"no 'html' or 'text'"
    # hostile markup: entities must not expand, external entities must not be read
    secret = root / "secret.txt"
    secret.write_text("TOP-SECRET-HARBOUR-CODE\n")
    put("hostile/laughs.html", billion_laughs(article(340)[1][0]))
    put("hostile/laughs-doctype.html", billion_laughs(article(342)[1][0]).split("\n", 1)[1].replace("<!DOCTYPE html [", "<!DOCTYPE lolz ["))
    put("hostile/xxe.html", external_entity(secret, article(341)[1][0]))
    # named explicitly: an unsupported type, and a path that does not exist
    slides = root / "slides.pptx"
    slides.write_bytes(b"PK\x03\x04 not really slides")
    problems[str(slides)] = r"unsupported file type"
    missing = root / "no-such-file.txt"
    problems[str(missing)] = r"no such file"

    db = root / "bad.db"
    result = invoke_cli("import", inputs, slides, missing, db=db, config=module_config_dir, check=False)
    return {"result": result, "db": db, "problems": problems, "inputs": inputs}


SUMMARY = re.compile(r"^imported \d+ .*documents/s$")


def _problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not SUMMARY.match(line)]


def test_everything_else_is_imported_and_the_exit_status_is_0(bad_run):
    result = bad_run["result"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    sources = {r["source"] for r in rows(bad_run["db"], "SELECT source FROM documents")}
    inputs = bad_run["inputs"]
    assert str(inputs / "good/ok.txt") in sources
    assert {f"{inputs / 'mixed.jsonl'} line {n}" for n in (1, 3, 5)} <= sources
    # whole records before the cut were imported, nothing of the cut one
    assert {f"{inputs / 'bad/cut.warc.gz'} record {n}" for n in (1, 2)} <= sources
    assert {f"{inputs / 'bad/cut.warc'} record {n}" for n in (1, 2)} <= sources
    assert not any("record 3" in s for s in sources)
    assert not any(s.startswith(str(inputs / "bad")) and "record" not in s for s in sources)


def test_one_line_per_bad_input_naming_it_and_the_reason(bad_run):
    lines = _problem_lines(bad_run["result"].stderr)
    expected = bad_run["problems"]
    summary = [line for line in bad_run["result"].stderr.splitlines() if SUMMARY.match(line)]
    assert len(summary) == 1 and f"skipped {len(expected)} with errors" in summary[0], "\n".join(lines)
    for where, reason in expected.items():
        mine = [line for line in lines if line.startswith(f"{where}: ")]
        assert len(mine) == 1, f"{where}: {mine or 'no line'} in\n" + "\n".join(lines)
        assert re.search(reason, mine[0][len(where) + 2:]), mine[0]
    assert len(lines) == len(expected), "\n".join(lines)  # nothing else on stderr


def test_legacy_encodings_are_detected_and_decoded(bad_run):
    got = {r["source"].rsplit("/", 1)[-1]: r for r in rows(bad_run["db"], "SELECT source, title, text FROM documents")}
    for name, original in (
        ("ferry-cp1251.txt", RUSSIAN),
        ("phare-latin1.txt", FRENCH),
        ("cafe-cp1252.txt", CAFE),
        ("ferry-shift-jis.txt", JAPANESE),
    ):
        title, *body = original.splitlines()
        assert got[name]["title"] == title, name
        assert got[name]["text"] == "\n".join(body), name
    html = got["undeclared-cp1251.html"]
    assert html["title"] == RUSSIAN.splitlines()[0]
    assert RUSSIAN.splitlines()[1] in html["text"]


def test_hostile_markup_is_not_expanded(bad_run):
    texts = {r["source"].rsplit("/", 1)[-1]: r["text"] for r in rows(bad_run["db"], "SELECT source, text FROM documents")}
    assert "lollol" not in " ".join(texts.values())
    assert "TOP-SECRET-HARBOUR-CODE" not in " ".join(texts.values())
    assert all(len(t) < 20_000 for t in texts.values())
    # the pages themselves are still imported, without the entity declarations
    assert article(340)[1][0] in texts["laughs.html"]
    assert article(342)[1][0] in texts["laughs-doctype.html"]
    assert article(341)[1][0] in texts["xxe.html"]


def test_a_page_without_article_text_is_refused(tmp_path, context, db_path):
    (tmp_path / "nav.html").write_text("<html><body><nav><a href='/'>Home</a> <a href='/about'>About</a></nav></body></html>")
    problems = []
    summary = import_paths([tmp_path], context, on_problem=problems.append)
    assert summary.new == 0 and len(problems) == 1 and "no article text" in problems[0]
    assert rows(db_path, "SELECT count(*) AS n FROM documents") == [{"n": 0}]


def test_nothing_imported_exits_non_zero(tmp_path, config_dir):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "report.html").write_bytes(b"%PDF-1.4\n")
    result = invoke_cli("import", tmp_path / "empty.txt", tmp_path / "report.html", tmp_path / "gone.warc",
                     db=tmp_path / "t.db", config=config_dir, check=False)
    assert result.returncode != 0
    assert _problem_lines(result.stderr) == [
        f"{tmp_path / 'empty.txt'}: empty",
        f"{tmp_path / 'report.html'}: binary data (a PDF document), not text",
        f"{tmp_path / 'gone.warc'}: no such file or folder",
    ]


# --- the library: limits, memory, encodings, truncation at any point ----------------------------

def _refused(path) -> list[Problem]:
    out = list(read_file(path))
    assert all(isinstance(o, Problem) for o in out), out
    return out


BOMBS = [
    ("zeros.txt.gz", b"", b"\0"),
    ("letters.txt.gz", b"", b"A"),
    ("spaces.html.gz", b"<html>", b" "),
    ("one-line.jsonl.gz", b'{"url": "https://morningwire.example/x", "text": "', b"a"),
    ("blank-lines.jsonl.gz", b'{"url": "https://morningwire.example/y", "text": "Hello."}', b"\n"),
    ("padding.warc.gz", b"WARC/1.0\r\n", b"X"),
]


@pytest.mark.parametrize("name, head, fill", BOMBS, ids=[b[0] for b in BOMBS])
def test_gzip_bombs_are_refused_in_little_memory_and_time(tmp_path, monkeypatch, name, head, fill):
    """50 MB that gzip packs into 50 KB: refused long before it is all inflated (limit lowered to 2 MB)."""
    monkeypatch.setattr(reading, "BOMB_MIN_BYTES", 2 * 1024 * 1024)
    path = tmp_path / name
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(head)
        for _ in range(50):
            out.write(fill * 1_000_000)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        out = list(read_file(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    problems = [o for o in out if isinstance(o, Problem)]
    assert len(out) - len(problems) <= 1  # the good first line of the last one
    assert len(problems) == 1 and re.search(r"gzip bomb|binary", problems[0].reason), problems
    assert str(path) in str(problems[0])
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MB"
    assert time.perf_counter() - started < 10  # seconds, not the minutes of inflating it all


def test_a_document_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 64 * 1024)
    big = tmp_path / "long.txt"
    big.write_text(txt(350) * 200)
    (problem,) = _refused(big)
    assert "larger than" in problem.reason
    lines = tmp_path / "long.jsonl"
    lines.write_text(json.dumps({"url": f"{MW}/long", "text": txt(351) * 200}) + "\n" + json.dumps({"url": f"{MW}/short", "text": txt(352)}) + "\n")
    out = list(read_file(lines))
    assert [str(o) for o in out if isinstance(o, Problem)] == [f"{lines} line 1: longer than 0.0625 MB"]
    assert [o["url"] for o in out if not isinstance(o, Problem)] == [f"{MW}/short"]


@pytest.mark.parametrize("encoding, text", [
    ("cp1251", RUSSIAN),
    ("koi8-r", RUSSIAN),
    ("latin-1", FRENCH),
    ("cp1252", CAFE),
    ("cp1250", "Městská rada schválila nový jízdní řád přívozu pro zimní sezónu.\nObyvatelé ostrovů získají další ranní spoj.\n"),
    ("shift_jis", JAPANESE),
    ("euc_jp", JAPANESE),
    ("utf-16", FRENCH),
])
def test_legacy_encodings(encoding, text):
    assert decode(text.encode(encoding)) == text


def test_binary_is_not_text():
    for data in (b"\x7fELF\x02\x01\x01" + bytes(100), bytes(range(256)) * 4, b"SQLite format 3\x00" + bytes(100)):
        with pytest.raises(NotText):
            decode(data)


def test_a_warc_cut_anywhere_imports_the_whole_records_before_the_cut(tmp_path, write_warc, html_page):
    pages = [html_page(*article(360 + i)) for i in range(4)]
    for suffix in (".warc", ".warc.gz"):
        whole = tmp_path / f"whole{suffix}"
        ends = write_warc(whole, [{"url": f"{HW}/w/{i}", "html": pages[i]} for i in range(4)])
        data = whole.read_bytes()
        cut = tmp_path / f"cut{suffix}"
        for size in range(1, len(data), 37):
            cut.write_bytes(data[:size])
            out = list(read_file(cut))
            articles = [o for o in out if not isinstance(o, Problem)]
            problems = [o for o in out if isinstance(o, Problem)]
            assert [a["html"] for a in articles] == pages[: len(articles)], size  # never a partial page
            assert len(articles) >= sum(1 for end in ends if end <= size), size
            # one line for the damage; a cut in the blank lines after a record (or in the last gzip
            # trailer) leaves whole records only, which may pass unreported
            whole_records_only = len(articles) == len(pages) or any(end - 4 <= size <= end for end in ends)
            assert len(problems) <= 1 if whole_records_only else len(problems) == 1, (size, problems)
            if problems:
                assert re.search(r"truncated|corrupt", problems[0].reason), problems


def test_a_truncated_jsonl_gz_keeps_the_lines_before_the_cut(tmp_path):
    lines = [json.dumps({"url": f"{MW}/t/{i}", "text": txt(370 + i)}) for i in range(30)]
    packed = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    out = list(read_file(path))
    articles = [o for o in out if not isinstance(o, Problem)]
    problems = [o for o in out if isinstance(o, Problem)]
    assert 5 < len(articles) < 30
    assert [a["url"] for a in articles] == [f"{MW}/t/{i}" for i in range(len(articles))]
    assert len(problems) == 1 and "truncated gzip" in problems[0].reason and str(path) in str(problems[0])


def test_a_jsonl_of_bad_lines_only_is_one_problem(tmp_path):
    path = tmp_path / "arrays.jsonl"
    path.write_text("[1]\n[2]\n")
    assert [str(p) for p in _refused(path)] == [f"{path}: no usable line: 2 bad lines (line 1: not a JSON object (a JSON array))"]
    path.write_text("[1]\n")
    assert [str(p) for p in _refused(path)] == [f"{path} line 1: not a JSON object (a JSON array)"]


def test_an_empty_folder_is_reported(tmp_path):
    (tmp_path / "only-images").mkdir()
    (tmp_path / "only-images" / "a.png").write_bytes(b"\x89PNG")
    from collector.importers import read_paths

    (problem,) = list(read_paths([tmp_path / "only-images"]))
    assert "no files to import" in problem.reason


# --- interrupted imports ---------------------------------------------------------------------------

SYLLABLES = ["ka", "lo", "mer", "sten", "vi", "dra", "pol", "an", "te", "rus", "bel", "ko", "ni", "sar", "do",
             "lin", "qua", "zet", "fo", "gri", "mu", "pex", "tor", "ul", "shen", "wa", "yor", "bri", "cal", "dun"]
FILES = 400
COPIES = 20  # the last COPIES files repost earlier ones with an attribution line: links and claims


def _invented(rng: random.Random, words: int) -> str:
    return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(words)).capitalize() + "."


@pytest.fixture(scope="module")
def many_files(tmp_path_factory):
    """400 small fictional dumps in invented words (so that no two share shingles by chance)."""
    folder = tmp_path_factory.mktemp("many") / "dumps"
    folder.mkdir()
    bodies = []
    for i in range(FILES - COPIES):
        rng = random.Random(i)
        body = [f"Dispatch {i}: {_invented(rng, 6)}", *(_invented(rng, 30) for _ in range(3))]
        bodies.append(body)
        (folder / f"d{i:03d}.txt").write_text("\n".join(body) + "\n")
    for j in range(COPIES):
        body = bodies[j * 7]
        (folder / f"repost{j:02d}.txt").write_text("\n".join([*body, "Originally appeared at Harbour Watch."]) + "\n")
    return folder


def _count(db, sql="SELECT count(*) FROM documents") -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _interrupt(db, folder, config, sig) -> subprocess.CompletedProcess:
    """Run ``collector import`` (5 documents per transaction) and send ``sig`` once 15 are committed."""
    cmd = [sys.executable, "-m", "collector", "--db", str(db), "--config", str(config), "import", str(folder)]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "COLLECTOR_BATCH_SIZE": "5"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and _count(db) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the import finished before it could be interrupted"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _check_consistent(db) -> int:
    """The database opens, passes integrity and foreign-key checks, and holds whole documents only."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        # every stored document has all its index rows (as many as any other), none lacks its document
        per_doc = conn.execute("SELECT doc_id, count(*) FROM lsh_index GROUP BY doc_id").fetchall()
        assert len(per_doc) == docs and len({n for _, n in per_doc}) <= 1
        assert conn.execute("SELECT count(*) FROM lsh_index WHERE doc_id NOT IN (SELECT id FROM documents)").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM line_sightings WHERE doc_id NOT IN (SELECT id FROM documents)").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM claims WHERE doc_id NOT IN (SELECT id FROM documents)").fetchone()[0] == 0
        assert_fts_matches_documents(db)
        return docs
    finally:
        conn.close()


def _check_complete(db, folder) -> dict[str, int]:
    """Every file is stored exactly once, with its reposts linked and claimed once each."""
    sources = rows(db, "SELECT source, count(*) AS n FROM documents GROUP BY source")
    assert sorted(r["source"] for r in sources) == sorted(str(p) for p in folder.iterdir())
    assert all(r["n"] == 1 for r in sources)
    counts = {t: _count(db, f"SELECT count(*) FROM {t}") for t in ("documents", "links", "claims", "lsh_index", "line_sightings", "chrome_lines")}
    assert counts["documents"] == FILES
    assert counts["links"] == COPIES and counts["claims"] == COPIES
    assert counts["lsh_index"] % FILES == 0
    return counts


def test_sigkill_mid_import_then_the_same_import_completes_it(tmp_path, many_files, config_dir):
    db = tmp_path / "killed.db"
    killed = _interrupt(db, many_files, config_dir, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert 0 < _check_consistent(db) < FILES
    rerun = invoke_cli("import", many_files, "--json", db=db, config=config_dir)
    data = json.loads(rerun.stdout)
    assert data["new"] + data["unchanged"] == FILES and data["skipped"] == 0
    _check_consistent(db)
    counts = _check_complete(db, many_files)
    third = _import_in_process(db, many_files, config_dir)
    assert (third.unchanged, third.new, third.updated, third.new_links) == (FILES, 0, 0, 0)
    assert _check_complete(db, many_files) == counts


def _import_in_process(db, folder, config):
    from collector.context import Context

    context = Context({"COLLECTOR_DB": str(db), "COLLECTOR_CONFIG": str(config)})
    try:
        return import_paths([folder], context)
    finally:
        context.close()


@pytest.fixture(scope="module")
def stopped_imports(tmp_path_factory, many_files, module_config_dir):
    """signal -> (db, the interrupted CLI run), each run once for the tests that look at it."""
    runs = {}

    def get(sig):
        if sig not in runs:
            db = tmp_path_factory.mktemp(f"stopped-{sig.name}") / "stopped.db"
            runs[sig] = db, _interrupt(db, many_files, module_config_dir, sig)
        return runs[sig]

    return get


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_import_is_consistent_and_completed_by_a_rerun(stopped_imports, many_files, module_config_dir, sig):
    db, stopped = stopped_imports(sig)
    assert stopped.returncode != 0
    if sig == signal.SIGINT:
        assert stopped.returncode == 130
        assert stopped.stderr.strip().splitlines() == ["interrupted: committed documents are kept; run the same import again to finish"]
    committed = _check_consistent(db)
    assert 0 < committed < FILES
    summary = _import_in_process(db, many_files, module_config_dir)
    assert summary.new == FILES - committed and summary.unchanged == committed and summary.skipped == 0
    _check_consistent(db)
    _check_complete(db, many_files)


def test_sigterm_says_so_in_one_line(stopped_imports):
    _, stopped = stopped_imports(signal.SIGTERM)
    assert stopped.returncode in (130, 143)
    assert "Traceback" not in stopped.stderr
    assert len(stopped.stderr.strip().splitlines()) == 1 and "interrupted" in stopped.stderr


def test_a_warc_without_pages_says_so(tmp_path, write_warc):
    path = tmp_path / "redirects.warc.gz"
    write_warc(path, [
        {"url": f"{MW}/old", "html": "<html><body>Moved</body></html>", "status": "301 Moved Permanently"},
        {"url": f"{MW}/gone", "html": "<html><body>Gone</body></html>", "status": "404 Not Found"},
        {"url": f"{MW}/logo.png", "html": b"\x89PNG\r\n\x1a\n", "content_type": "image/png"},
    ])
    assert [str(p) for p in _refused(path)] == [f"{path}: no HTML page with HTTP status 200 among its 3 records"]


def test_utf8_with_a_few_stray_bytes_stays_utf8():
    # One latin-1 byte pasted into a UTF-8 page: detection would call the page cp1256 and
    # turn every correct character into mojibake; only the stray byte may be lost.
    good = "Městská rada schválila nový jízdní řád přívozu pro zimní sezónu. Obyvatelé ostrovů získají spoj.\n"
    data = good.encode("utf-8") * 3 + b"caf\xe9 \xe2\x80\x94 end\n"
    text = decode(data)
    assert text.startswith(good * 3) and text.endswith("caf\ufffd \u2014 end\n")
    # a page whose every accented byte is invalid UTF-8 is a legacy encoding, not stray bytes
    assert decode(FRENCH.encode("latin-1")) == FRENCH


def test_a_bad_setting_in_the_environment_is_one_line(tmp_path, config_dir):
    (tmp_path / "a.txt").write_text("\n".join(article(390)[1]))
    for name, value, reason in [("COLLECTOR_LSH_RECENT_DOCUMENTS", "lots", "not a whole number"),
                                ("COLLECTOR_BATCH_SIZE", "2x", "not a whole number"),
                                ("COLLECTOR_EXTRACTION", "greedy", "is not one of")]:
        result = run_cli("import", tmp_path / "a.txt", db=tmp_path / "s.db", config=config_dir, check=False, env={name: value})
        assert result.returncode != 0
        assert result.stderr.strip().count("\n") == 0 and name in result.stderr and reason in result.stderr
        assert "Traceback" not in result.stderr
