"""Full-text search on documents and the indexes of the document browser's sorts.

Hand-written and vendor-specific, so the model state does not change:

- SQLite: an FTS5 external-content table ``classifiers_document_fts`` over
  ``classifiers_document.text`` (rowid = document id), kept in step by three triggers.
- PostgreSQL: a generated ``search_vector`` tsvector column (the first 200,000 characters:
  a tsvector is capped at 1 MB) with a GIN index.
- Both: (project, filename, id) and (project, size, id) for keyset pages sorted by file
  name or size.

Warning for later migrations on SQLite: an operation that makes Django rebuild
``classifiers_document`` (most AlterField/RemoveField) drops the triggers with the old
table. Such a migration must run ``SQLITE_TRIGGERS`` again (and ``rebuild`` the index).
"""

from django.db import migrations

SQLITE_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS classifiers_document_fts USING fts5(
    text, content='classifiers_document', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
)
"""

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER IF NOT EXISTS classifiers_document_fts_ai AFTER INSERT ON classifiers_document BEGIN
        INSERT INTO classifiers_document_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS classifiers_document_fts_ad AFTER DELETE ON classifiers_document BEGIN
        INSERT INTO classifiers_document_fts(classifiers_document_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
    END
    """,
    # "OF text": moving documents between sets does not touch the index.
    """
    CREATE TRIGGER IF NOT EXISTS classifiers_document_fts_au AFTER UPDATE OF text ON classifiers_document
    BEGIN
        INSERT INTO classifiers_document_fts(classifiers_document_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
        INSERT INTO classifiers_document_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS classifiers_document_fts_ai",
    "DROP TRIGGER IF EXISTS classifiers_document_fts_ad",
    "DROP TRIGGER IF EXISTS classifiers_document_fts_au",
    "DROP TABLE IF EXISTS classifiers_document_fts",
]

POSTGRES_FORWARD = [
    """
    ALTER TABLE classifiers_document ADD COLUMN IF NOT EXISTS search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, left(text, 200000))) STORED
    """,
    "CREATE INDEX IF NOT EXISTS doc_search_vector_gin ON classifiers_document USING GIN (search_vector)",
]

POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS doc_search_vector_gin",
    "ALTER TABLE classifiers_document DROP COLUMN IF EXISTS search_vector",
]

SORT_INDEXES = [
    "CREATE INDEX IF NOT EXISTS doc_project_filename_id ON classifiers_document (project_id, filename, id)",
    "CREATE INDEX IF NOT EXISTS doc_project_size_id ON classifiers_document (project_id, size, id)",
]

SORT_INDEXES_REVERSE = [
    "DROP INDEX IF EXISTS doc_project_filename_id",
    "DROP INDEX IF EXISTS doc_project_size_id",
]


def _run(schema_editor, statements: list[str]) -> None:
    for sql in statements:
        schema_editor.execute(sql, params=None)


def forward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, [SQLITE_TABLE, *SQLITE_TRIGGERS])
        # Index what is already there.
        _run(schema_editor, ["INSERT INTO classifiers_document_fts(classifiers_document_fts) VALUES ('rebuild')"])
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_FORWARD)
    _run(schema_editor, SORT_INDEXES)


def backward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    _run(schema_editor, SORT_INDEXES_REVERSE)
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_REVERSE)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("classifiers", "0002_documents")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
