//! The bundled SQLite is built for a server, not an embedded library: `.cargo/config.toml`
//! passes `LIBSQLITE3_FLAGS` to `libsqlite3-sys`'s build.
//!
//! - `SQLITE_ENABLE_QPSG` (the query planner stability guarantee, on for every connection):
//!   without it a statement with a bound `LIMIT ?` (every page) counts as plan-affecting and
//!   is prepared again on each run, so the statement cache saves nothing;
//! - no `SQLITE_ENABLE_MEMORY_MANAGEMENT`, which `libsqlite3-sys` sets by default: it puts the
//!   page caches of all connections under one process-wide mutex.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::prelude::*;
use diesel::sql_types::Text;

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

#[test]
fn the_bundled_sqlite_is_built_for_a_server() {
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
        .load::<CompileOption>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|o| o.compile_options)
        .collect();
    assert!(
        options.iter().any(|o| o == "ENABLE_QPSG"),
        "SQLite is built without ENABLE_QPSG: {options:?}"
    );
    assert!(
        !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
        "SQLite is built with ENABLE_MEMORY_MANAGEMENT: {options:?}"
    );
}
