//! Virtual tables implemented on the host, and host values SQLite carries by handle.
//!
//! The shim registers one of nine static `sqlite3_module`s (three [`ModuleKind`]s times
//! three [`ModuleWrites`]) whose methods forward to the `sl_vtab_*` imports with the
//! module's handle, or the table's or cursor's id; the host
//! keeps the [`VtabModule`], [`VtabTable`] and [`VtabCursor`] objects in its callback map
//! under those ids. A call that reads SQLite's values (`xFilter`) or sets a result
//! (`xColumn`) calls back into the guest, as user functions do. Errors travel back as
//! a result code plus a message the host allocated with `sqlite3_malloc`, which the
//! shim puts in `sqlite3_vtab.zErrMsg` (the write methods choose the code, see
//! [`VtabError`]); a panic in host code is caught here and becomes such an error.
//!
//! Host values ([`HostValue`]) are `Arc`s SQLite holds by handle: bound as a pointer
//! (`sqlite3_bind_pointer` with a type name SQL cannot produce) or kept as auxiliary
//! data of a function argument; the shim calls `sl_release` when SQLite drops them.

use crate::callbacks::{Callback, FunctionCall};
use crate::exports::Exports;
use crate::ffi;
use crate::guest;
use crate::host::{HostState, exports, memory, panic_message, with_callback};
use sandlite_vm::{Caller, Memory, Trap};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// A value the host hands SQLite by handle (a bound pointer, auxiliary data).
pub type HostValue = Arc<dyn Any + Send + Sync>;

/// How a module can be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleKind {
    /// Only through `CREATE VIRTUAL TABLE` (`xCreate` differs from `xConnect`).
    Default,
    /// Also by its own name, as a table-valued function (`xCreate == xConnect`).
    Eponymous,
    /// Only by its own name (no `xCreate`).
    EponymousOnly,
}

impl ModuleKind {
    fn code(self) -> i32 {
        match self {
            ModuleKind::Default => 0,
            ModuleKind::Eponymous => 1,
            ModuleKind::EponymousOnly => 2,
        }
    }
}

/// Which write methods a module's tables have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ModuleWrites {
    /// None: SQLite refuses `INSERT`, `UPDATE` and `DELETE` ("may not be modified").
    #[default]
    ReadOnly,
    /// `xUpdate` ([`VtabTable::update`]).
    Update,
    /// `xUpdate` and `xBegin`/`xSync`/`xCommit`/`xRollback`
    /// ([`VtabTable::transaction`]).
    UpdateAndTransactions,
}

impl ModuleWrites {
    /// The `SANDLITE_MODULE_UPDATE`/`_TRANSACTIONS` bits of the shim.
    fn flags(self) -> i32 {
        match self {
            ModuleWrites::ReadOnly => 0,
            ModuleWrites::Update => 0x100,
            ModuleWrites::UpdateAndTransactions => 0x300,
        }
    }
}

/// A step of the transaction a writable table takes part in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionOp {
    /// `xBegin`: the first write of a transaction to this table is coming.
    Begin,
    /// `xSync`: the first phase of a commit; an error rolls the transaction back.
    Sync,
    /// `xCommit` (SQLite ignores an error).
    Commit,
    /// `xRollback` (SQLite ignores an error).
    Rollback,
}

impl TransactionOp {
    fn from_code(op: i32) -> Option<TransactionOp> {
        match op {
            0 => Some(TransactionOp::Begin),
            1 => Some(TransactionOp::Sync),
            2 => Some(TransactionOp::Commit),
            3 => Some(TransactionOp::Rollback),
            _ => None,
        }
    }
}

/// An error of a write method: the result code SQLite gets and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VtabError {
    /// An `SQLITE_*` result code other than `SQLITE_OK` (`SQLITE_CONSTRAINT` lets
    /// `ON CONFLICT` act when the table declared constraint support).
    pub code: i32,
    pub message: String,
}

impl From<String> for VtabError {
    /// `SQLITE_ERROR` with `message`.
    fn from(message: String) -> VtabError {
        VtabError {
            code: ffi::SQLITE_ERROR,
            message,
        }
    }
}

/// A virtual-table module: makes tables.
pub trait VtabModule: Send {
    /// `xCreate` (`create`) or `xConnect`: `args` are the module name, the database
    /// name, the table name and the arguments of `CREATE VIRTUAL TABLE`. Returns the
    /// `CREATE TABLE` statement declaring the columns, and the table.
    ///
    /// # Errors
    /// The message becomes SQLite's error.
    fn connect(
        &mut self,
        conn: &mut VtabConnect<'_, '_>,
        create: bool,
        args: &[&[u8]],
    ) -> Result<(String, Box<dyn VtabTable>), String>;
}

/// One virtual table.
pub trait VtabTable: Send {
    /// `xBestIndex`: read the constraints and order, choose a plan.
    ///
    /// # Errors
    /// The message becomes SQLite's error.
    fn best_index(&mut self, info: &mut IndexInfo) -> Result<(), String>;
    /// `xOpen`: a new cursor.
    ///
    /// # Errors
    /// The message becomes SQLite's error.
    fn open(&mut self) -> Result<Box<dyn VtabCursor>, String>;
    /// `xDestroy` (`DROP TABLE`), before the table is dropped. An error keeps the table.
    ///
    /// # Errors
    /// The message becomes SQLite's error.
    fn destroy(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// `xUpdate`, for a module registered with [`ModuleWrites::Update`] or
    /// [`ModuleWrites::UpdateAndTransactions`]. `args` as SQLite passes them: one value
    /// (the rowid of the row to delete), or the old rowid (NULL for an insert), the new
    /// rowid (NULL: the table chooses) and the columns. Returns the new row's rowid for
    /// an insert (`None` leaves SQLite's `last_insert_rowid` at 0), else `None`.
    ///
    /// # Errors
    /// The code and message SQLite reports.
    fn update(&mut self, args: Vec<FilterArg>) -> Result<Option<i64>, VtabError> {
        let _ = args;
        Err(VtabError::from("the table is read-only".to_owned()))
    }
    /// `xBegin`, `xSync`, `xCommit` or `xRollback`, for a module registered with
    /// [`ModuleWrites::UpdateAndTransactions`].
    ///
    /// # Errors
    /// The code and message SQLite reports.
    fn transaction(&mut self, op: TransactionOp) -> Result<(), VtabError> {
        let _ = op;
        Ok(())
    }
}

/// A cursor over a virtual table.
pub trait VtabCursor: Send {
    /// `xFilter`: start a scan with the plan `idx_num`/`idx_str` and the values of the
    /// constraints `best_index` asked for.
    ///
    /// # Errors
    /// The message becomes SQLite's error.
    fn filter(
        &mut self,
        idx_num: i32,
        idx_str: Option<&str>,
        args: Vec<FilterArg>,
    ) -> Result<(), String>;
    /// `xNext`.
    ///
    /// # Errors
    /// The message becomes SQLite's error.
    fn next(&mut self) -> Result<(), String>;
    /// `xEof`.
    fn eof(&self) -> bool;
    /// `xColumn`: set column `column` of the current row on `call`.
    ///
    /// # Errors
    /// The message becomes SQLite's error.
    fn column(&mut self, call: &mut FunctionCall<'_, '_>, column: i32) -> Result<(), String>;
    /// `xRowid`.
    ///
    /// # Errors
    /// The message becomes SQLite's error.
    fn rowid(&mut self) -> Result<i64, String>;
}

/// A value `xFilter` received, copied to the host.
#[derive(Clone)]
pub enum FilterArg {
    Null,
    Integer(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
    /// A host value bound with [`Sqlite::bind_pointer`](crate::Sqlite::bind_pointer).
    Pointer(HostValue),
}

impl std::fmt::Debug for FilterArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterArg::Null => f.write_str("Null"),
            FilterArg::Integer(i) => write!(f, "Integer({i})"),
            FilterArg::Real(r) => write!(f, "Real({r})"),
            FilterArg::Text(t) => write!(f, "Text({:?})", String::from_utf8_lossy(t)),
            FilterArg::Blob(b) => write!(f, "Blob({} bytes)", b.len()),
            FilterArg::Pointer(_) => f.write_str("Pointer"),
        }
    }
}

/// One `WHERE` constraint SQLite offers to `xBestIndex`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constraint {
    /// Column index (-1 for the rowid).
    pub column: i32,
    /// `SQLITE_INDEX_CONSTRAINT_*`.
    pub op: u8,
    pub usable: bool,
}

/// What `xBestIndex` sees and decides; copied from and back to `sqlite3_index_info`.
#[derive(Clone, Debug, Default)]
pub struct IndexInfo {
    pub constraints: Vec<Constraint>,
    /// (column, descending) of each `ORDER BY` term.
    pub order_bys: Vec<(i32, bool)>,
    /// Per constraint: (argvIndex, omit).
    pub usages: Vec<(i32, bool)>,
    pub col_used: u64,
    pub idx_num: i32,
    pub idx_str: Option<String>,
    pub order_by_consumed: bool,
    pub estimated_cost: f64,
    pub estimated_rows: i64,
    pub idx_flags: i32,
}

/// The connection inside `xCreate`/`xConnect`, for `sqlite3_vtab_config`.
pub struct VtabConnect<'a, 'c> {
    caller: &'a mut Caller<'c, HostState>,
    exports: &'a Exports,
    db: i32,
}

impl VtabConnect<'_, '_> {
    /// `sqlite3_vtab_config(db, op, arg)` (`arg` only for `SQLITE_VTAB_CONSTRAINT_SUPPORT`).
    ///
    /// # Errors
    /// SQLite's result code for an unknown option, or a trap.
    pub fn config(&mut self, op: i32, arg: i32) -> crate::Result<()> {
        let r = self
            .exports
            .sandlite_vtab_config
            .call(&mut *self.caller, (self.db, op, arg));
        let rc = r.map_err(|e| {
            let text = e.to_string();
            self.caller.data_mut().nested_trap.get_or_insert(text);
            crate::Error::from(e)
        })?;
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(crate::Error::from_code(rc))
        }
    }
}

/// A trap of a guest call the host made itself.
fn nested(e: sandlite_vm::Error) -> Trap {
    match e.into_trap() {
        Ok(t) => t,
        Err(other) => Trap::host_message(other.to_string()),
    }
}

/// Runs host code, turning a panic into an error message.
fn guarded<R>(f: impl FnOnce() -> Result<R, String>) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_message(p)))
}

/// Copies `text` plus a NUL into memory from `sqlite3_malloc64` (0 if it fails).
fn sqlite_string(
    caller: &mut Caller<'_, HostState>,
    exports: &Exports,
    memory: Memory,
    text: &str,
) -> Result<i32, Trap> {
    let ptr = exports
        .sqlite3_malloc64
        .call(&mut *caller, text.len() as i64 + 1)
        .map_err(nested)?;
    if ptr == 0 {
        return Ok(0);
    }
    let mem = memory.data_mut(&mut *caller);
    let dst = guest::bytes_mut(mem, ptr as u32, text.len() + 1)?;
    dst[..text.len()].copy_from_slice(text.as_bytes());
    dst[text.len()] = 0;
    Ok(ptr)
}

/// Reports `outcome`: `SQLITE_OK`, or `SQLITE_ERROR` with the message in `*out_message`.
fn report(
    caller: &mut Caller<'_, HostState>,
    out_message: i32,
    outcome: Result<(), String>,
) -> Result<i32, Trap> {
    report_error(caller, out_message, outcome.map_err(VtabError::from))
}

/// Reports `outcome`: `SQLITE_OK`, or the error's code with its message in
/// `*out_message`.
fn report_error(
    caller: &mut Caller<'_, HostState>,
    out_message: i32,
    outcome: Result<(), VtabError>,
) -> Result<i32, Trap> {
    let Err(error) = outcome else {
        return Ok(ffi::SQLITE_OK);
    };
    let memory = memory(caller)?;
    let exports = exports(caller)?;
    let ptr = sqlite_string(caller, &exports, memory, &error.message)?;
    if ptr == 0 {
        return Ok(ffi::SQLITE_NOMEM);
    }
    guest::write_i32(memory.data_mut(&mut *caller), out_message as u32, ptr)?;
    // A host claiming success for an error still fails the call.
    Ok(if error.code == ffi::SQLITE_OK {
        ffi::SQLITE_ERROR
    } else {
        error.code
    })
}

/// Runs host code of a write method, turning a panic into an `SQLITE_ERROR`.
fn guarded_write<R>(f: impl FnOnce() -> Result<R, VtabError>) -> Result<R, VtabError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(VtabError::from(panic_message(p))))
}

/// `sl_vtab_connect`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn connect(
    caller: &mut Caller<'_, HostState>,
    module: i32,
    db: i32,
    create: i32,
    argc: i32,
    argv: i32,
    out_table: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    let memory = memory(caller)?;
    let exports = exports(caller)?;
    let args = {
        let mem = memory.data(&*caller);
        let ptrs = crate::host::read_args(mem, argc, argv)?;
        let mut args = crate::alloc::vec_with_capacity(ptrs.len())
            .map_err(|e| Trap::host_message(e.to_string()))?;
        for p in ptrs {
            let s = guest::c_str(mem, p as u32)?;
            args.push(crate::alloc::copy(s).map_err(|e| Trap::host_message(e.to_string()))?);
        }
        args
    };
    let made = with_callback(caller, module, |caller, cb| {
        let Callback::Module(m) = cb else {
            return Err(Trap::host_message(format!("{module} is not a module")));
        };
        let arg_refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let mut conn = VtabConnect {
            caller,
            exports: &exports,
            db,
        };
        Ok(guarded(|| m.connect(&mut conn, create != 0, &arg_refs)))
    })?;
    let (schema, table) = match made {
        Ok(made) => made,
        Err(message) => return report(caller, out_message, Err(message)),
    };
    let schema_ptr = sqlite_string(caller, &exports, memory, &schema)?;
    if schema_ptr == 0 {
        return Ok(ffi::SQLITE_NOMEM);
    }
    let rc = exports
        .sqlite3_declare_vtab
        .call(&mut *caller, (db, schema_ptr))
        .map_err(nested);
    exports
        .sqlite3_free
        .call(&mut *caller, schema_ptr)
        .map_err(nested)?;
    let rc = rc?;
    if rc != ffi::SQLITE_OK {
        let msg = exports
            .sqlite3_errmsg
            .call(&mut *caller, db)
            .map_err(nested)?;
        let msg = guest::opt_str(memory.data(&*caller), msg as u32)?.unwrap_or_default();
        drop(table);
        return report(
            caller,
            out_message,
            Err(format!(
                "invalid virtual table declaration {schema:?}: {msg}"
            )),
        );
    }
    let id = caller.data_mut().add_callback(Callback::Table(table));
    guest::write_i32(memory.data_mut(&mut *caller), out_table as u32, id)?;
    Ok(ffi::SQLITE_OK)
}

// Offsets in sqlite3_index_info on wasm32 (the shim asserts them).
const INFO_N_CONSTRAINT: u32 = 0;
const INFO_CONSTRAINTS: u32 = 4;
const INFO_N_ORDER_BY: u32 = 8;
const INFO_ORDER_BYS: u32 = 12;
const INFO_USAGES: u32 = 16;
const INFO_IDX_NUM: u32 = 20;
const INFO_IDX_STR: u32 = 24;
const INFO_FREE_IDX_STR: u32 = 28;
const INFO_ORDER_BY_CONSUMED: u32 = 32;
const INFO_COST: u32 = 40;
const INFO_ROWS: u32 = 48;
const INFO_FLAGS: u32 = 56;
const INFO_COL_USED: u32 = 64;

fn read_index_info(mem: &[u8], info: u32) -> Result<IndexInfo, Trap> {
    let oom = |e: crate::alloc::OutOfMemory| Trap::host_message(e.to_string());
    let n = guest::read_i32(mem, info + INFO_N_CONSTRAINT)?.max(0) as usize;
    let at = guest::read_i32(mem, info + INFO_CONSTRAINTS)? as u32;
    let raw = guest::bytes(mem, at, n.saturating_mul(12))?;
    let mut constraints = crate::alloc::vec_with_capacity(n).map_err(oom)?;
    constraints.extend(raw.chunks_exact(12).map(|c| Constraint {
        column: i32::from_le_bytes([c[0], c[1], c[2], c[3]]),
        op: c[4],
        usable: c[5] != 0,
    }));
    let n_order = guest::read_i32(mem, info + INFO_N_ORDER_BY)?.max(0) as usize;
    let at = guest::read_i32(mem, info + INFO_ORDER_BYS)? as u32;
    let raw = guest::bytes(mem, at, n_order.saturating_mul(8))?;
    let mut order_bys = crate::alloc::vec_with_capacity(n_order).map_err(oom)?;
    order_bys.extend(
        raw.chunks_exact(8)
            .map(|c| (i32::from_le_bytes([c[0], c[1], c[2], c[3]]), c[4] != 0)),
    );
    let mut usages = crate::alloc::vec_with_capacity(n).map_err(oom)?;
    usages.resize(n, (0, false));
    let cost = f64::from_bits(guest::read_i64(mem, info + INFO_COST)? as u64);
    Ok(IndexInfo {
        constraints,
        order_bys,
        usages,
        col_used: guest::read_i64(mem, info + INFO_COL_USED)? as u64,
        idx_num: 0,
        idx_str: None,
        order_by_consumed: false,
        estimated_cost: cost,
        estimated_rows: guest::read_i64(mem, info + INFO_ROWS)?,
        idx_flags: 0,
    })
}

/// `sl_vtab_best_index`.
pub(crate) fn best_index(
    caller: &mut Caller<'_, HostState>,
    table: i32,
    info: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    let memory = memory(caller)?;
    let exports = exports(caller)?;
    let info = info as u32;
    let mut index = read_index_info(memory.data(&*caller), info)?;
    let outcome = with_callback(caller, table, |_, cb| {
        let Callback::Table(t) = cb else {
            return Err(Trap::host_message(format!(
                "{table} is not a virtual table"
            )));
        };
        Ok(guarded(|| t.best_index(&mut index)))
    })?;
    if outcome.is_err() {
        return report(caller, out_message, outcome);
    }
    let idx_str = match &index.idx_str {
        Some(s) => {
            let p = sqlite_string(caller, &exports, memory, s)?;
            if p == 0 {
                return Ok(ffi::SQLITE_NOMEM);
            }
            p
        }
        None => 0,
    };
    let mem = memory.data_mut(&mut *caller);
    let usages_at = guest::read_i32(mem, info + INFO_USAGES)? as u32;
    let out = guest::bytes_mut(mem, usages_at, index.usages.len().saturating_mul(8))?;
    for (slot, (argv_index, omit)) in out.chunks_exact_mut(8).zip(&index.usages) {
        slot[..4].copy_from_slice(&argv_index.to_le_bytes());
        slot[4] = u8::from(*omit);
    }
    guest::write_i32(mem, info + INFO_IDX_NUM, index.idx_num)?;
    if idx_str != 0 {
        guest::write_i32(mem, info + INFO_IDX_STR, idx_str)?;
        guest::write_i32(mem, info + INFO_FREE_IDX_STR, 1)?;
    }
    guest::write_i32(
        mem,
        info + INFO_ORDER_BY_CONSUMED,
        i32::from(index.order_by_consumed),
    )?;
    guest::write_i64(mem, info + INFO_COST, index.estimated_cost.to_bits() as i64)?;
    guest::write_i64(mem, info + INFO_ROWS, index.estimated_rows)?;
    guest::write_i32(mem, info + INFO_FLAGS, index.idx_flags)?;
    Ok(ffi::SQLITE_OK)
}

/// `sl_vtab_disconnect`.
pub(crate) fn disconnect(
    caller: &mut Caller<'_, HostState>,
    table: i32,
    destroy: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    if destroy != 0 {
        let outcome = with_callback(caller, table, |_, cb| {
            let Callback::Table(t) = cb else {
                return Err(Trap::host_message(format!(
                    "{table} is not a virtual table"
                )));
            };
            Ok(guarded(|| t.destroy()))
        })?;
        if outcome.is_err() {
            return report(caller, out_message, outcome);
        }
    }
    match caller.data_mut().callbacks.remove(&table) {
        Some(Callback::Table(t)) => {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(t)));
            Ok(ffi::SQLITE_OK)
        }
        _ => Err(Trap::host_message(format!(
            "guest disconnected unknown virtual table {table}"
        ))),
    }
}

/// `sl_vtab_open`.
pub(crate) fn open(
    caller: &mut Caller<'_, HostState>,
    table: i32,
    out_cursor: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    let opened = with_callback(caller, table, |_, cb| {
        let Callback::Table(t) = cb else {
            return Err(Trap::host_message(format!(
                "{table} is not a virtual table"
            )));
        };
        Ok(guarded(|| t.open()))
    })?;
    match opened {
        Ok(cursor) => {
            let id = caller.data_mut().add_callback(Callback::Cursor(cursor));
            let memory = memory(caller)?;
            guest::write_i32(memory.data_mut(&mut *caller), out_cursor as u32, id)?;
            Ok(ffi::SQLITE_OK)
        }
        Err(message) => report(caller, out_message, Err(message)),
    }
}

/// `sl_vtab_close`.
pub(crate) fn close(caller: &mut Caller<'_, HostState>, cursor: i32) -> Result<i32, Trap> {
    match caller.data_mut().callbacks.remove(&cursor) {
        Some(Callback::Cursor(c)) => {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(c)));
            Ok(ffi::SQLITE_OK)
        }
        _ => Err(Trap::host_message(format!(
            "guest closed unknown cursor {cursor}"
        ))),
    }
}

/// Runs `f` on cursor `cursor`.
fn with_cursor<R>(
    caller: &mut Caller<'_, HostState>,
    cursor: i32,
    f: impl FnOnce(&mut Caller<'_, HostState>, &mut dyn VtabCursor) -> R,
) -> Result<R, Trap> {
    with_callback(caller, cursor, |caller, cb| {
        let Callback::Cursor(c) = cb else {
            return Err(Trap::host_message(format!("{cursor} is not a cursor")));
        };
        Ok(f(caller, c.as_mut()))
    })
}

/// Copies one `sqlite3_value` to the host.
fn read_value(
    caller: &mut Caller<'_, HostState>,
    exports: &Exports,
    memory: Memory,
    v: i32,
) -> Result<FilterArg, Trap> {
    let handle = exports
        .sandlite_value_pointer
        .call(&mut *caller, v)
        .map_err(nested)?;
    if handle != 0 {
        return match caller.data().callbacks.get(&handle) {
            Some(Callback::Value(value)) => Ok(FilterArg::Pointer(value.clone())),
            _ => Err(Trap::host_message(format!(
                "guest passed unknown host value {handle}"
            ))),
        };
    }
    let ty = exports
        .sqlite3_value_type
        .call(&mut *caller, v)
        .map_err(nested)?;
    let bytes = |caller: &mut Caller<'_, HostState>, text: bool| -> Result<Vec<u8>, Trap> {
        let ptr = if text {
            exports.sqlite3_value_text.call(&mut *caller, v)
        } else {
            exports.sqlite3_value_blob.call(&mut *caller, v)
        }
        .map_err(nested)?;
        let len = exports
            .sqlite3_value_bytes
            .call(&mut *caller, v)
            .map_err(nested)?;
        if ptr == 0 {
            return Ok(Vec::new());
        }
        let b = guest::bytes(memory.data(&*caller), ptr as u32, len.max(0) as usize)?;
        crate::alloc::copy(b).map_err(|e| Trap::host_message(e.to_string()))
    };
    Ok(match ty {
        ffi::SQLITE_INTEGER => FilterArg::Integer(
            exports
                .sqlite3_value_int64
                .call(&mut *caller, v)
                .map_err(nested)?,
        ),
        ffi::SQLITE_FLOAT => FilterArg::Real(
            exports
                .sqlite3_value_double
                .call(&mut *caller, v)
                .map_err(nested)?,
        ),
        ffi::SQLITE_TEXT => FilterArg::Text(bytes(caller, true)?),
        ffi::SQLITE_BLOB => FilterArg::Blob(bytes(caller, false)?),
        _ => FilterArg::Null,
    })
}

/// The `argc` values of the guest's `sqlite3_value*` array at `argv`.
fn read_values(
    caller: &mut Caller<'_, HostState>,
    memory: Memory,
    argc: i32,
    argv: i32,
) -> Result<Vec<FilterArg>, Trap> {
    let exports = exports(caller)?;
    let ptrs = crate::host::read_args(memory.data(&*caller), argc, argv)?;
    let mut args = crate::alloc::vec_with_capacity(ptrs.len())
        .map_err(|e| Trap::host_message(e.to_string()))?;
    for p in ptrs {
        args.push(read_value(caller, &exports, memory, p)?);
    }
    Ok(args)
}

/// `sl_vtab_filter`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn filter(
    caller: &mut Caller<'_, HostState>,
    cursor: i32,
    idx_num: i32,
    idx_str: i32,
    argc: i32,
    argv: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    let memory = memory(caller)?;
    let args = read_values(caller, memory, argc, argv)?;
    let idx_str = guest::opt_str(memory.data(&*caller), idx_str as u32)?;
    let outcome = with_cursor(caller, cursor, |_, c| {
        guarded(|| c.filter(idx_num, idx_str.as_deref(), args))
    })?;
    report(caller, out_message, outcome)
}

/// `sl_vtab_next`.
pub(crate) fn next(
    caller: &mut Caller<'_, HostState>,
    cursor: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    let outcome = with_cursor(caller, cursor, |_, c| guarded(|| c.next()))?;
    report(caller, out_message, outcome)
}

/// `sl_vtab_eof`; a panic ends the scan.
pub(crate) fn eof(caller: &mut Caller<'_, HostState>, cursor: i32) -> Result<i32, Trap> {
    with_cursor(caller, cursor, |_, c| {
        i32::from(catch_unwind(AssertUnwindSafe(|| c.eof())).unwrap_or(true))
    })
}

/// `sl_vtab_column`: the result (or error) is set on `ctx`.
pub(crate) fn column(
    caller: &mut Caller<'_, HostState>,
    cursor: i32,
    ctx: i32,
    column: i32,
) -> Result<i32, Trap> {
    let memory = memory(caller)?;
    let exports = exports(caller)?;
    with_cursor(caller, cursor, |caller, c| {
        let mut call = FunctionCall {
            caller,
            exports: &exports,
            memory,
            ctx,
            args: Vec::new(),
        };
        if let Err(message) = guarded(|| c.column(&mut call, column)) {
            // A trap here is noted in `nested_trap` and reported by `with_callback`.
            let _ = call.set_error(&message);
        }
    })?;
    Ok(ffi::SQLITE_OK)
}

/// `sl_vtab_rowid`.
pub(crate) fn rowid(
    caller: &mut Caller<'_, HostState>,
    cursor: i32,
    out_rowid: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    match with_cursor(caller, cursor, |_, c| guarded(|| c.rowid()))? {
        Ok(id) => {
            let memory = memory(caller)?;
            guest::write_i64(memory.data_mut(&mut *caller), out_rowid as u32, id)?;
            Ok(ffi::SQLITE_OK)
        }
        Err(message) => report(caller, out_message, Err(message)),
    }
}

/// Runs `f` on table `table`.
fn with_table<R>(
    caller: &mut Caller<'_, HostState>,
    table: i32,
    f: impl FnOnce(&mut dyn VtabTable) -> R,
) -> Result<R, Trap> {
    with_callback(caller, table, |_, cb| {
        let Callback::Table(t) = cb else {
            return Err(Trap::host_message(format!(
                "{table} is not a virtual table"
            )));
        };
        Ok(f(t.as_mut()))
    })
}

/// `sl_vtab_update`.
pub(crate) fn update(
    caller: &mut Caller<'_, HostState>,
    table: i32,
    argc: i32,
    argv: i32,
    out_rowid: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    let memory = memory(caller)?;
    let args = read_values(caller, memory, argc, argv)?;
    match with_table(caller, table, |t| guarded_write(|| t.update(args)))? {
        Ok(rowid) => {
            if let Some(rowid) = rowid {
                guest::write_i64(memory.data_mut(&mut *caller), out_rowid as u32, rowid)?;
            }
            Ok(ffi::SQLITE_OK)
        }
        Err(e) => report_error(caller, out_message, Err(e)),
    }
}

/// `sl_vtab_transaction`.
pub(crate) fn transaction(
    caller: &mut Caller<'_, HostState>,
    table: i32,
    op: i32,
    out_message: i32,
) -> Result<i32, Trap> {
    let Some(op) = TransactionOp::from_code(op) else {
        return Err(Trap::host_message(format!(
            "guest passed unknown virtual-table transaction step {op}"
        )));
    };
    let outcome = with_table(caller, table, |t| guarded_write(|| t.transaction(op)))?;
    report_error(caller, out_message, outcome)
}

pub(crate) fn module_kind_code(kind: ModuleKind, writes: ModuleWrites) -> i32 {
    kind.code() | writes.flags()
}
