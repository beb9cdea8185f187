//! Plain-data access for use-case modules that own their tables (the axis exchange tables of
//! migration 0004): static SQL with JSON-valued parameters, rows deserialised by column name.
//! Keeps rusqlite inside this crate while the exchange logic stays in `vanthu-app`.

use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{params_from_iter, Connection};
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use crate::error::StoreError;
use crate::store::{Store, Tx};

fn to_sql(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Number(i.into()),
        ValueRef::Real(f) => Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(hex::encode(b)),
    }
}

fn query<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let mut rows = stmt.query(params_from_iter(params.iter().map(to_sql)))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut m = Map::new();
        for (i, n) in names.iter().enumerate() {
            m.insert(n.clone(), from_sql(r.get_ref(i)?));
        }
        out.push(
            serde_json::from_value(Value::Object(m))
                .map_err(|e| StoreError::CorruptDatabase(format!("row shape: {e}")))?,
        );
    }
    Ok(out)
}

impl Store {
    /// Rows of a read-only query, each deserialised from a `{column: value}` object.
    pub fn query_rows<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, StoreError> {
        query(self.raw_connection(), sql, params)
    }
}

impl Tx<'_> {
    /// Runs one statement inside the transaction; returns the number of changed rows.
    pub fn execute_json(&mut self, sql: &str, params: &[Value]) -> Result<usize, StoreError> {
        Ok(self
            .tx
            .prepare_cached(sql)?
            .execute(params_from_iter(params.iter().map(to_sql)))?)
    }

    /// Rows of a query inside the transaction (sees its own uncommitted writes).
    pub fn query_rows<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, StoreError> {
        query(&self.tx, sql, params)
    }
}
