"""The PostgreSQL roles of distributed mode (``collector pg-roles`` prints them; docs/deploying.md).

- The **node** role (crawl nodes, ``collector import --inbox``): reads the store (to skip
  stored URLs and send conditional requests), inserts into the inbox, and keeps the crawl's
  own records: its ``runs`` rows and the feeds' and sitemaps' validators (``source_validators``),
  committed under the writer's lock, which counts commits in ``store_version``. It cannot write
  documents, links, claims or anything else of the corpus.
- The **linker** role (``collector link-worker``, ``collector schedule``, migrations): writes
  every table.

Roles are created without a password: set one with ``ALTER ROLE ... PASSWORD`` (psql's
``\\password``) from a secret you keep out of the repository, and put it in the node's
COLLECTOR_DB and COLLECTOR_INBOX URLs (or in ~/.pgpass).
"""

from __future__ import annotations

#: What a node writes besides the inbox: the crawl's records, never the corpus.
NODE_WRITES = {"runs": "INSERT, UPDATE", "source_validators": "INSERT, UPDATE", "store_version": "UPDATE"}


def roles_sql(node: str = "collector_node", linker: str = "collector_linker") -> str:
    """SQL that creates the two roles (run by the database's owner, after the schema exists:
    ``collector link-worker --once`` or any write creates it)."""
    for name in (node, linker):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"{name!r}: a role name is letters, digits and underscores")
    lines = [
        "-- collector: the roles of distributed mode (docs/deploying.md). Set passwords with \\password.",
        "BEGIN;",
        f"CREATE ROLE {node} LOGIN;",
        f"CREATE ROLE {linker} LOGIN;",
        f"GRANT USAGE ON SCHEMA public TO {node}, {linker};",
        "-- nodes: read the store, hand documents to the inbox, keep their crawl records",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {node};",
        f"GRANT INSERT ON inbox TO {node};",
        *(f"GRANT {rights} ON {table} TO {node};" for table, rights in NODE_WRITES.items()),
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {node};",
        "-- the linker: writes everything",
        f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO {linker};",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {linker};",
        "COMMIT;",
    ]
    return "\n".join(lines)
