-- Documents already in the encrypted search index (derived state: the index can always be
-- rebuilt from the store with `vanthu reindex`, which empties this table).
CREATE TABLE search_indexed (
    id  TEXT PRIMARY KEY REFERENCES incoming (id)
) WITHOUT ROWID;
