"""The web view: Datasette over the database, with collector's plugin, metadata and lineage page."""
