"""The schema and the fingerprint parameters every stored signature depends on: created or
migrated when a writer opens the database, checked against this version's on every open."""

from __future__ import annotations

from collector.core.fingerprint import FINGERPRINT

from .dbfile import StoreError
from .documents import DocumentStore
from .schema import migrate, migrations
from .writer import Writer


def set_up(writer: Writer, documents: DocumentStore, old_tokens: bool) -> None:
    """Create or migrate the schema and record the fingerprint parameters, under the write
    lock: processes opening one new file at once each see the others' work."""
    if not migrations.pending(writer.db) and stored(writer):
        check(writer, documents, old_tokens)
        return
    writer.begin()
    try:
        migrate(writer.db)  # sqlite-utils nests each migration in a savepoint of this transaction
        if not stored(writer):
            save(writer)
        writer.conn.execute("COMMIT")
    except BaseException:
        if writer.conn.in_transaction:
            writer.conn.execute("ROLLBACK")
        raise
    check(writer, documents, old_tokens)


def stored(writer: Writer) -> dict:
    if not writer.db["fingerprint_params"].exists():
        return {}
    return {r[0]: r[1] for r in writer.conn.execute("SELECT key, value FROM fingerprint_params")}


def check(writer: Writer, documents: DocumentStore, old_tokens: bool = False) -> None:
    if must_save(stored(writer), writer.path, documents, old_tokens):
        save(writer)


def must_save(found: dict, path: str, documents: DocumentStore, old_tokens: bool = False) -> bool:
    """Whether this version's parameters are to be recorded over ``found`` (the stored ones);
    ``StoreError`` when the stored signatures cannot be used with this version's."""
    wanted = {k: str(v) for k, v in FINGERPRINT.items()}
    if not found:
        return True
    if found.get("tokens") != wanted["tokens"] and {**found, "tokens": wanted["tokens"]} == wanted:
        # Only the tokenizer changed: words are cut as before, so only documents in a
        # script written without spaces have other shingles now.
        if not documents.spaceless(limit=1):
            return True
        if not old_tokens:
            raise StoreError(
                f"{path}: documents in scripts written without spaces (Chinese, Japanese, Thai...) were "
                "fingerprinted by words; run `collector refingerprint` once to fingerprint them by characters"
            )
    elif found != wanted:
        raise StoreError(
            f"{path}: signatures were made with {found}, this version makes {wanted}; "
            "use a new database or re-import"
        )
    return False


def save(writer: Writer) -> None:
    """Under the write lock, in the open transaction or in one of its own."""
    own = not writer.conn.in_transaction
    if own:
        writer.when_free(lambda: writer.conn.execute("BEGIN IMMEDIATE"))
    try:
        with writer.db.atomic():
            writer.conn.execute("DELETE FROM fingerprint_params")
            writer.conn.executemany("INSERT INTO fingerprint_params VALUES (?, ?)",
                                    [(k, str(v)) for k, v in FINGERPRINT.items()])
    except BaseException:
        if own and writer.conn.in_transaction:
            writer.conn.execute("ROLLBACK")
        raise
    if own:
        writer.conn.execute("COMMIT")
