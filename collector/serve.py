"""`collector serve`: Datasette over the database, read-only, with the lineage page (over a
PostgreSQL corpus: the lineage pages only, ``make_postgres_datasette``).

Datasette runs in this process (uvicorn on a socket bound here first, so a busy port is a
one-line error, not a traceback). It opens the file ``mode=ro``: it never writes, and it
sees what a crawl or import running meanwhile commits. The metadata shipped in
``collector/web/metadata.yaml`` describes every table, view and column, hides the internal
tables, sets facets and holds the canned queries; ``collector.web.plugin`` adds the lineage
page, site links and ``fts_query``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import yaml
from .core.errors import ServeError  # noqa: F401  (raised here; defined with every error)

WEB = Path(__file__).with_name("web")

SETTINGS = {
    "default_page_size": 50,
    "truncate_cells_html": 240,  # documents.text in a table page: the start, the row page has it all
    # A facet over a search matching most of the corpus is dropped ("timed out") rather than
    # holding the page past a second (bench/serve.py); facets on a table or a site take < 100 ms.
    "facet_time_limit_ms": 300,
    "sql_time_limit_ms": 5000,
    "suggest_facets": False,  # the metadata names the facets; suggesting costs a query per column
    "allow_download": False,
}



def metadata(db_name: str) -> dict:
    """The shipped metadata, for a database named ``db_name`` (Datasette names it by the file's stem)."""
    raw = yaml.safe_load((WEB / "metadata.yaml").read_text(encoding="utf-8"))
    database = {"tables": raw.pop("tables"), "queries": raw.pop("queries")}
    return {**raw, "databases": {db_name: database}}


def register_plugin() -> None:
    from datasette.plugins import pm

    from .web import plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="collector")


def make_datasette(db_path: str | Path):
    """A Datasette instance over the database, with collector's metadata and plugin; over a
    PostgreSQL URL, the lineage pages only (``make_postgres_datasette``)."""
    from datasette.app import Datasette

    from .storage import is_postgres

    register_plugin()
    if is_postgres(str(db_path)):
        return make_postgres_datasette(str(db_path))
    path = Path(db_path)
    # In a read-only folder SQLite cannot create a WAL database's -shm file, so even reading
    # fails: the file is opened immutable there (nothing can write to it).
    immutable = not os.access(path.resolve().parent, os.W_OK)
    return Datasette(
        files=[] if immutable else [str(path)],
        immutables=[str(path)] if immutable else [],
        metadata=metadata(path.stem),
        settings=SETTINGS,
        template_dir=str(WEB / "templates"),
    )


def make_postgres_datasette(url: str):
    """Datasette with no database of the corpus: collector's lineage pages read the
    PostgreSQL corpus through ``collector.web.postgres.PostgresSource`` (Datasette serves
    SQLite files only; its table pages need a snapshot, ``collector migrate-store``)."""
    from datasette.app import Datasette

    from .web.postgres import PostgresSource

    class PostgresDatasette(Datasette):
        def __init__(self, **options):
            self.collector_postgres = PostgresSource(url)  # before Datasette builds its routes
            super().__init__(**options)

    shipped = metadata("collector")
    return PostgresDatasette(files=[], metadata={k: v for k, v in shipped.items() if k != "databases"},
                             settings=SETTINGS, template_dir=str(WEB / "templates"))


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or ServeError saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        hint = " (another server is using it; choose another with --port)" if exc.errno == 98 else ""
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from None
    return sock


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001, on_ready=None) -> None:
    """Serve until Ctrl-C or SIGTERM. ``on_ready(url)`` is called once the socket listens."""
    import uvicorn

    sock = bind(host, port)
    url_host = f"[{host}]" if ":" in host else host
    if on_ready:
        on_ready(f"http://{url_host}:{sock.getsockname()[1]}/")
    app = make_datasette(db_path).app()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.run(sockets=[sock])
