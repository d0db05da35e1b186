//! rapport-client: the desktop's SQLite cache, outbox, queries and use cases.
