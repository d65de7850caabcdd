//! `harmonia migrate`, and `--db` taking a PostgreSQL URL: the schema made and brought
//! up to date on either backend, twice without harm; an unreachable server or a
//! database from a newer Harmonia refused with a message that says what to do, and a
//! password never printed.

use super::nodes::TestDb;
use super::{fails, harmonia, ok};

#[test]
fn migrate_makes_the_schema_on_sqlite_and_postgres_and_again_does_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("h.db");
    let file = file.to_str().expect("utf-8");
    let first = ok(&harmonia(&["migrate", "--db", file]));
    assert!(
        first.starts_with(&format!("{file}: the schema is up to date (migration ")),
        "{first}"
    );
    assert_eq!(ok(&harmonia(&["migrate", "--db", file])), first);

    let db = TestDb::new();
    let first = ok(&harmonia(&["migrate", "--db", &db.url]));
    assert!(
        first.contains("the schema is up to date (migration "),
        "{first}"
    );
    assert_eq!(ok(&harmonia(&["migrate", "--db", &db.url])), first);
    // The schema is usable: a token is created and listed through it.
    ok(&harmonia(&[
        "token", "create", "--db", &db.url, "--role", "admin", "--name", "me",
    ]));
    let listed = ok(&harmonia(&["token", "list", "--db", &db.url]));
    assert!(listed.contains("admin"), "{listed}");
}

#[test]
fn an_unreachable_server_is_named_and_its_password_is_not() {
    let err = fails(
        &harmonia(&[
            "migrate",
            "--db",
            "postgres://someone:hunter2secret@127.0.0.1:1/harmonia",
        ]),
        2,
    );
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(
        err.contains("could not reach the PostgreSQL server"),
        "{err}"
    );
    assert!(!err.contains("hunter2secret"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    // `serve` says the same, before listening.
    let err = fails(
        &harmonia(&[
            "serve",
            "--port",
            "0",
            "--db",
            "postgres://someone:hunter2secret@127.0.0.1:1/harmonia",
        ]),
        2,
    );
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("hunter2secret"), "{err}");
}

#[test]
fn a_database_from_a_newer_harmonia_is_refused_saying_so() {
    let db = TestDb::new();
    ok(&harmonia(&["migrate", "--db", &db.url]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::postgres::PgConnection::connect(&db.url)
            .await
            .expect("connects");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (9999, 'from the future', true, '\\x00', 0)",
        )
        .execute(&mut conn)
        .await
        .expect("a future migration is recorded");
    });
    let err = fails(&harmonia(&["migrate", "--db", &db.url]), 2);
    assert!(err.contains("9999"), "{err}");
    assert!(err.contains("newer"), "{err}");
}
