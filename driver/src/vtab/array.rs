//! `rarray(?)`: a table-valued function over an array bound from Rust, as rusqlite's
//! `vtab::array`.
//!
//! ```
//! use sandlite_driver::{Connection, types::Value, vtab::array};
//! use std::rc::Rc;
//!
//! let conn = Connection::open_in_memory()?;
//! array::load_module(&conn)?;
//! let ids: array::Array = Rc::new([1i64, 3, 5].into_iter().map(Value::from).collect());
//! let mut stmt = conn.prepare("SELECT value * 10 FROM rarray(?1)")?;
//! let tens: Vec<i64> = stmt.query_map([ids], |r| r.get(0))?.collect::<Result<_, _>>()?;
//! assert_eq!(tens, [10, 30, 50]);
//! # Ok::<(), sandlite_driver::Error>(())
//! ```
//!
//! The array is bound as an SQLite pointer value (`sqlite3_bind_pointer`) carrying a
//! host handle: SQL sees NULL and cannot forge one. The connection may move to another
//! thread, which an `Rc` may not, so binding copies the values into a host-side
//! `Arc` that the statement keeps until it is rebound, reset with cleared bindings or
//! finalized.

use super::{Context, Filters, IndexConstraintOp, IndexInfo, VTab, VTabConnection, VTabCursor};
use crate::connection::Connection;
use crate::error::Result;
use crate::ffi;
use crate::types::{ToSql, ToSqlOutput, Value};
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::rc::Rc;
use std::sync::Arc;

/// An array to bind to `rarray(?)`.
pub type Array = Rc<Vec<Value>>;

/// The host copy of a bound array.
pub(crate) type SharedArray = Arc<Vec<Value>>;

impl ToSql for Array {
    fn to_sql(&self) -> Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Array(self.clone()))
    }
}

/// Registers the eponymous module `rarray` on `conn`.
///
/// # Errors
/// SQLite's error.
pub fn load_module(conn: &Connection) -> Result<()> {
    conn.create_module("rarray", super::eponymous_only_module::<ArrayTab>(), None)
}

/// Column of the array parameter (hidden).
const CARRAY_COLUMN_POINTER: c_int = 1;

/// The `rarray` table.
#[repr(C)]
struct ArrayTab {
    base: ffi::sqlite3_vtab,
}

// SAFETY: the cursor keeps no borrow of the table.
unsafe impl<'vtab> VTab<'vtab> for ArrayTab {
    type Aux = ();
    type Cursor = ArrayTabCursor<'vtab>;

    fn connect(
        _: &mut VTabConnection<'_>,
        _: Option<&()>,
        _: &[&[u8]],
    ) -> Result<(String, ArrayTab)> {
        Ok((
            "CREATE TABLE x(value,pointer hidden)".to_owned(),
            ArrayTab {
                base: ffi::sqlite3_vtab::default(),
            },
        ))
    }

    fn best_index(&self, info: &mut IndexInfo) -> Result<()> {
        let mut found = false;
        for (constraint, mut usage) in info.constraints_and_usages() {
            if constraint.is_usable()
                && constraint.column() == CARRAY_COLUMN_POINTER
                && constraint.operator() == IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ
                && !found
            {
                usage.set_argv_index(1);
                usage.set_omit(true);
                found = true;
            }
        }
        if found {
            info.set_estimated_cost(1.0);
            info.set_estimated_rows(100);
            info.set_idx_num(1);
        } else {
            info.set_estimated_cost(2_147_483_647.0);
            info.set_estimated_rows(2_147_483_647);
            info.set_idx_num(0);
        }
        Ok(())
    }

    fn open(&mut self) -> Result<ArrayTabCursor<'_>> {
        Ok(ArrayTabCursor {
            base: ffi::sqlite3_vtab_cursor::default(),
            row_id: 1,
            array: None,
            phantom: PhantomData,
        })
    }
}

#[repr(C)]
struct ArrayTabCursor<'vtab> {
    base: ffi::sqlite3_vtab_cursor,
    /// 1-based index of the current element.
    row_id: i64,
    array: Option<SharedArray>,
    phantom: PhantomData<&'vtab ArrayTab>,
}

impl ArrayTabCursor<'_> {
    fn len(&self) -> i64 {
        self.array.as_ref().map_or(0, |a| a.len() as i64)
    }
}

// SAFETY: nothing beyond the trait's rules.
unsafe impl VTabCursor for ArrayTabCursor<'_> {
    fn filter(&mut self, idx_num: c_int, _: Option<&str>, args: &Filters<'_>) -> Result<()> {
        self.array = if idx_num > 0 { args.array(0) } else { None };
        self.row_id = 1;
        Ok(())
    }

    fn next(&mut self) -> Result<()> {
        self.row_id += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.row_id > self.len()
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()> {
        match i {
            CARRAY_COLUMN_POINTER => ctx.set_result(&crate::types::Null),
            _ => {
                let value = self
                    .array
                    .as_ref()
                    .and_then(|a| a.get(usize::try_from(self.row_id - 1).ok()?));
                match value {
                    Some(v) => ctx.set_result(v),
                    None => ctx.set_result(&crate::types::Null),
                }
            }
        }
    }

    fn rowid(&self) -> Result<i64> {
        Ok(self.row_id)
    }
}
