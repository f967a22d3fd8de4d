//! A SQLite database's writers in one process (`tx::write_transaction`): they take turns in
//! the order they asked, all write through one connection, and a writer that panics leaves
//! the next one a working connection. SQLite only (PostgreSQL's writers wait on the site
//! row's lock), so these tests open a SQLite database whatever the suite's backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use staffroom_persistence::testing::TestDatabase;
use staffroom_persistence::tx::{read_transaction, write_transaction};
use staffroom_persistence::{DbConnection, Pool};

fn sqlite_pool(size: u32) -> (TestDatabase, Pool) {
    let database = TestDatabase::sqlite().unwrap();
    let pool = database.pool(size).unwrap();
    (database, pool)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[test]
fn writers_take_their_turns_in_the_order_they_asked() {
    let (_database, pool) = sqlite_pool(6);
    pool.get()
        .unwrap()
        .batch_execute("CREATE TABLE turns (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)")
        .unwrap();
    let (holding, held) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let first = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            write_transaction(&mut conn, |conn| {
                holding.send(()).unwrap();
                released.recv().unwrap();
                diesel::sql_query("INSERT INTO turns (name) VALUES ('first')").execute(conn)
            })
            .unwrap();
        })
    };
    held.recv().unwrap();
    // Each writer asks well after the one before it, while the first holds the turn.
    let waiting: Vec<_> = ["second", "third", "fourth"]
        .into_iter()
        .map(|name| {
            let pool = pool.clone();
            let writer = std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                write_transaction(&mut conn, |conn| {
                    diesel::sql_query(format!("INSERT INTO turns (name) VALUES ('{name}')"))
                        .execute(conn)
                })
                .unwrap();
            });
            std::thread::sleep(Duration::from_millis(150));
            writer
        })
        .collect();
    release.send(()).unwrap();
    first.join().unwrap();
    for writer in waiting {
        writer.join().unwrap();
    }
    let order: Vec<String> = diesel::sql_query("SELECT name FROM turns ORDER BY seq")
        .load::<Name>(&mut pool.get().unwrap())
        .unwrap()
        .into_iter()
        .map(|row| row.name)
        .collect();
    assert_eq!(order, ["first", "second", "third", "fourth"]);
}

#[test]
fn writes_from_any_pooled_connection_go_through_one_connection() {
    let (_database, pool) = sqlite_pool(4);
    let mut one = pool.get().unwrap();
    let mut other = pool.get().unwrap();
    // A TEMP table belongs to the connection that made it.
    write_transaction(&mut one, |conn: &mut DbConnection| {
        conn.batch_execute("CREATE TEMP TABLE writer_only (x INTEGER)")
    })
    .unwrap();
    let seen = write_transaction(&mut other, |conn: &mut DbConnection| {
        diesel::sql_query("SELECT count(*) AS n FROM temp.writer_only").get_result::<Count>(conn)
    });
    assert_eq!(
        seen.unwrap().n,
        0,
        "the second write ran on the same connection"
    );
    // A read runs on the connection it was given, which never saw the table.
    let read = read_transaction(&mut other, |conn: &mut DbConnection| {
        diesel::sql_query("SELECT count(*) AS n FROM temp.writer_only").get_result::<Count>(conn)
    });
    assert!(read.is_err(), "a pooled connection has no such table");
}

#[test]
fn a_writer_that_panics_leaves_the_next_one_a_working_connection() {
    let (_database, pool) = sqlite_pool(2);
    pool.get()
        .unwrap()
        .batch_execute("CREATE TABLE notes (text TEXT)")
        .unwrap();
    let panicked = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            let _ = write_transaction(&mut conn, |conn| {
                diesel::sql_query("INSERT INTO notes VALUES ('lost')").execute(conn)?;
                if conn.batch_execute("SELECT 1").is_ok() {
                    panic!("a writer fails half-way");
                }
                diesel::QueryResult::Ok(())
            });
        })
        .join()
    };
    assert!(panicked.is_err());
    let mut conn = pool.get().unwrap();
    let written = write_transaction(&mut conn, |conn| {
        diesel::sql_query("INSERT INTO notes VALUES ('kept')").execute(conn)
    })
    .unwrap();
    let notes: Vec<String> = diesel::sql_query("SELECT text AS name FROM notes")
        .load::<Name>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|row| row.name)
        .collect();
    assert_eq!(
        notes,
        ["kept"],
        "the panicked writer's insert was rolled back"
    );
    assert_eq!(written, 1);
}
