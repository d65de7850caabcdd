//! [`Sql`]: a statement (its text and its bound values) for dialect `D`, and running it.
//!
//! Two ways to write one, never mixed in one statement:
//! - fixed text with `$1`, `$2`, ... and its values in order: `Sql::new("... $1 ...")
//!   .arg(x)`;
//! - text built piece by piece, each value with the dialect's placeholder:
//!   `sql.push(" AND name = ").bind(name)`.
//!
//! A statement owns its text and its values, complete before a connection is taken;
//! they are bound to the driver's arguments when it runs (a value the driver refuses
//! is reported then). [`Sql::into_parts`] hands both to a writer that is not sqlx's
//! (SQLite's log writer, see `sqlite_log.rs`).

use std::borrow::Cow;
use std::marker::PhantomData;

use sqlx::AssertSqlSafe;

use crate::dialect::{Connection, Dialect, Row, Value};

/// The most rows one [`Sql::any_of`] matches.
pub(crate) const MAX_ANY_OF: usize = 256;

/// A statement of dialect `D`, ready to run.
pub(crate) struct Sql<D: Dialect> {
    text: Cow<'static, str>,
    values: Vec<Value>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> Sql<D> {
    /// A statement of `text`, without values yet.
    pub(crate) fn new(text: impl Into<Cow<'static, str>>) -> Sql<D> {
        Sql {
            text: text.into(),
            values: Vec::new(),
            dialect: PhantomData,
        }
    }

    /// A statement that starts with `head` and will grow to about `capacity` bytes of
    /// text holding `values` values: built in place, without the copies of a string
    /// that doubles as it grows.
    pub(crate) fn with_capacity(head: &str, capacity: usize, values: usize) -> Sql<D> {
        let mut text = String::with_capacity(capacity.max(head.len()));
        text.push_str(head);
        Sql {
            text: Cow::Owned(text),
            values: Vec::with_capacity(values),
            dialect: PhantomData,
        }
    }

    /// The value of the text's next `$n`.
    pub(crate) fn arg(mut self, value: impl Into<Value>) -> Sql<D> {
        self.add(value.into());
        self
    }

    /// Appends text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql<D> {
        self.text.to_mut().push_str(text);
        self
    }

    /// Appends a placeholder and binds its value.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Sql<D> {
        D::placeholder(self.text.to_mut(), self.values.len() + 1);
        self.add(value.into());
        self
    }

    /// Appends `(v, v, ...)`: one row of a multi-row `VALUES`.
    pub(crate) fn row(&mut self, values: impl IntoIterator<Item = Value>) -> &mut Sql<D> {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self.push(")")
    }

    /// Appends `(a = v AND b = v) OR (a = v AND b = v) ...`: rows matching any of
    /// `rows` by `columns`. Where a row value list (`(a, b) IN (VALUES ...)`) makes
    /// SQLite scan the table, this uses the key's index once per row. Keep the rows to
    /// [`MAX_ANY_OF`]: each `OR` is a level of the expression tree, whose depth SQLite
    /// limits to 1,000.
    pub(crate) fn any_of<const N: usize>(
        &mut self,
        columns: [&str; N],
        rows: impl IntoIterator<Item = [Value; N]>,
    ) -> &mut Sql<D> {
        for (i, row) in rows.into_iter().enumerate() {
            self.push(if i == 0 { "(" } else { " OR (" });
            for (j, (column, value)) in columns.iter().zip(row).enumerate() {
                if j > 0 {
                    self.push(" AND ");
                }
                self.push(column).push(" = ").bind(value);
            }
            self.push(")");
        }
        self
    }

    fn add(&mut self, value: Value) {
        self.values.push(value);
    }

    /// Its text and its values, in order.
    pub(crate) fn into_parts(self) -> (Cow<'static, str>, Vec<Value>) {
        (self.text, self.values)
    }

    fn query(self) -> Result<sqlx::query::Query<'static, D::Db, D::Args>, sqlx::Error> {
        let mut args = D::Args::default();
        for value in self.values {
            D::bind(&mut args, value).map_err(sqlx::Error::Encode)?;
        }
        Ok(sqlx::query_with(AssertSqlSafe(self.text), args))
    }

    /// Runs it; the number of rows it changed.
    pub(crate) async fn execute(self, conn: &mut Connection<D>) -> Result<u64, sqlx::Error> {
        let done = self.query()?.execute(D::exec(conn)).await?;
        Ok(D::rows_affected(&done))
    }

    /// Runs it; every row it returns.
    pub(crate) async fn fetch_all(
        self,
        conn: &mut Connection<D>,
    ) -> Result<Vec<Row<D>>, sqlx::Error> {
        self.query()?.fetch_all(D::exec(conn)).await
    }

    /// Runs it; its first row, if any.
    pub(crate) async fn fetch_optional(
        self,
        conn: &mut Connection<D>,
    ) -> Result<Option<Row<D>>, sqlx::Error> {
        self.query()?.fetch_optional(D::exec(conn)).await
    }
}
