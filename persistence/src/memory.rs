//! The heap the bundled SQLite holds in this process: page caches, prepared statements and
//! schema of every open connection, summed by SQLite itself.

/// SQLite's heap in this process, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteMemory {
    /// Held now.
    pub used: i64,
    /// The most held at once since the process started.
    pub highwater: i64,
}

/// Reads SQLite's process-wide heap counters (zero while no SQLite connection was opened).
#[allow(unsafe_code)]
#[must_use]
pub fn sqlite_memory() -> SqliteMemory {
    // SAFETY: both functions only read SQLite's global memory statistics under its own
    // mutex; they take no pointers, need no open connection and are thread-safe in the
    // bundled build (SQLITE_THREADSAFE=1). `sqlite3_memory_highwater(0)` does not reset it.
    unsafe {
        SqliteMemory {
            used: libsqlite3_sys::sqlite3_memory_used(),
            highwater: libsqlite3_sys::sqlite3_memory_highwater(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    #[test]
    fn counts_what_a_connection_holds() {
        let before = sqlite_memory();
        let mut conn = SqliteConnection::establish(":memory:").unwrap_or_else(|e| panic!("{e}"));
        conn.batch_execute(
            "CREATE TABLE t (x TEXT); INSERT INTO t VALUES (hex(randomblob(4000)));",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let during = sqlite_memory();
        assert!(during.used > 0, "{during:?}");
        assert!(during.highwater >= during.used, "{during:?}");
        assert!(
            during.highwater >= before.highwater,
            "{before:?} {during:?}"
        );
    }
}
