//! Typed handles on every export of `sqlite3.wasm` the binding calls.

use sandlite_vm::{Instance, Store, TypedFunc};

macro_rules! params {
    () => { () };
    ($a:ty) => { $a };
    ($($a:ty),+) => { ($($a,)+) };
}

macro_rules! exports {
    ($($field:ident ($($p:ty),*) -> $r:ty;)*) => {
        /// The module's exports, resolved and type-checked once per instance.
        #[allow(missing_docs)]
        pub(crate) struct Exports {
            $(pub $field: TypedFunc<params!($($p),*), $r>,)*
        }

        impl Exports {
            pub(crate) fn resolve<T>(
                instance: &Instance,
                store: &Store<T>,
            ) -> sandlite_vm::Result<Exports> {
                Ok(Exports {
                    $($field: instance.get_typed_func(store, stringify!($field))?,)*
                })
            }
        }
    };
}

exports! {
    _initialize() -> ();
    malloc(i32) -> i32;
    free(i32) -> ();
    sandlite_abi_version() -> i32;
    sandlite_create_function(i32, i32, i32, i32, i32, i32) -> i32;
    sandlite_remove_function(i32, i32, i32, i32) -> i32;
    sandlite_create_collation(i32, i32, i32, i32) -> i32;
    sandlite_remove_collation(i32, i32, i32) -> i32;
    sandlite_busy_handler(i32, i32, i32) -> i32;
    sandlite_progress_handler(i32, i32, i32, i32) -> ();
    sandlite_commit_hook(i32, i32, i32) -> ();
    sandlite_rollback_hook(i32, i32, i32) -> ();
    sandlite_update_hook(i32, i32, i32) -> ();
    sandlite_trace(i32, i32, i32) -> i32;
    sandlite_db_config_int(i32, i32, i32, i32) -> i32;
    sandlite_free_destructor() -> i32;
    sandlite_step_row(i32, i32, i32) -> i32;
    sandlite_create_module(i32, i32, i32, i32) -> i32;
    sandlite_vtab_config(i32, i32, i32) -> i32;
    sandlite_bind_pointer(i32, i32, i32) -> i32;
    sandlite_value_pointer(i32) -> i32;
    sandlite_set_auxdata(i32, i32, i32) -> ();
    sandlite_get_auxdata(i32, i32) -> i32;
    sqlite3_declare_vtab(i32, i32) -> i32;
    sqlite3_initialize() -> i32;
    sqlite3_libversion() -> i32;
    sqlite3_libversion_number() -> i32;
    sqlite3_open_v2(i32, i32, i32, i32) -> i32;
    sqlite3_close_v2(i32) -> i32;
    sqlite3_extended_result_codes(i32, i32) -> i32;
    sqlite3_errmsg(i32) -> i32;
    sqlite3_errcode(i32) -> i32;
    sqlite3_extended_errcode(i32) -> i32;
    sqlite3_error_offset(i32) -> i32;
    sqlite3_changes64(i32) -> i64;
    sqlite3_total_changes64(i32) -> i64;
    sqlite3_last_insert_rowid(i32) -> i64;
    sqlite3_get_autocommit(i32) -> i32;
    sqlite3_busy_timeout(i32, i32) -> i32;
    sqlite3_interrupt(i32) -> ();
    sqlite3_db_readonly(i32, i32) -> i32;
    sqlite3_db_filename(i32, i32) -> i32;
    sqlite3_txn_state(i32, i32) -> i32;
    sqlite3_limit(i32, i32, i32) -> i32;
    sqlite3_complete(i32) -> i32;
    sqlite3_prepare_v3(i32, i32, i32, i32, i32, i32) -> i32;
    sqlite3_step(i32) -> i32;
    sqlite3_reset(i32) -> i32;
    sqlite3_finalize(i32) -> i32;
    sqlite3_clear_bindings(i32) -> i32;
    sqlite3_stmt_readonly(i32) -> i32;
    sqlite3_stmt_busy(i32) -> i32;
    sqlite3_stmt_status(i32, i32, i32) -> i32;
    sqlite3_sql(i32) -> i32;
    sqlite3_expanded_sql(i32) -> i32;
    sqlite3_bind_parameter_count(i32) -> i32;
    sqlite3_bind_parameter_name(i32, i32) -> i32;
    sqlite3_bind_parameter_index(i32, i32) -> i32;
    sqlite3_bind_null(i32, i32) -> i32;
    sqlite3_bind_int64(i32, i32, i64) -> i32;
    sqlite3_bind_double(i32, i32, f64) -> i32;
    sqlite3_bind_text64(i32, i32, i32, i64, i32, i32) -> i32;
    sqlite3_bind_blob64(i32, i32, i32, i64, i32) -> i32;
    sqlite3_bind_zeroblob64(i32, i32, i64) -> i32;
    sqlite3_column_count(i32) -> i32;
    sqlite3_data_count(i32) -> i32;
    sqlite3_column_type(i32, i32) -> i32;
    sqlite3_column_int64(i32, i32) -> i64;
    sqlite3_column_double(i32, i32) -> f64;
    sqlite3_column_text(i32, i32) -> i32;
    sqlite3_column_blob(i32, i32) -> i32;
    sqlite3_column_bytes(i32, i32) -> i32;
    sqlite3_column_name(i32, i32) -> i32;
    sqlite3_column_decltype(i32, i32) -> i32;
    sqlite3_column_database_name(i32, i32) -> i32;
    sqlite3_column_table_name(i32, i32) -> i32;
    sqlite3_column_origin_name(i32, i32) -> i32;
    sqlite3_malloc64(i64) -> i32;
    sqlite3_free(i32) -> ();
    sqlite3_serialize(i32, i32, i32, i32) -> i32;
    sqlite3_deserialize(i32, i32, i32, i64, i64, i32) -> i32;
    sqlite3_value_type(i32) -> i32;
    sqlite3_value_int64(i32) -> i64;
    sqlite3_value_double(i32) -> f64;
    sqlite3_value_text(i32) -> i32;
    sqlite3_value_blob(i32) -> i32;
    sqlite3_value_bytes(i32) -> i32;
    sqlite3_result_null(i32) -> ();
    sqlite3_result_int64(i32, i64) -> ();
    sqlite3_result_double(i32, f64) -> ();
    sqlite3_result_text64(i32, i32, i64, i32, i32) -> ();
    sqlite3_result_blob64(i32, i32, i64, i32) -> ();
    sqlite3_result_zeroblob64(i32, i64) -> i32;
    sqlite3_result_error(i32, i32, i32) -> ();
    sqlite3_result_error_code(i32, i32) -> ();
    sqlite3_aggregate_context(i32, i32) -> i32;
    sqlite3_blob_open(i32, i32, i32, i32, i64, i32, i32) -> i32;
    sqlite3_blob_close(i32) -> i32;
    sqlite3_blob_reopen(i32, i64) -> i32;
    sqlite3_blob_read(i32, i32, i32, i32) -> i32;
    sqlite3_blob_write(i32, i32, i32, i32) -> i32;
    sqlite3_blob_bytes(i32) -> i32;
    sqlite3_backup_init(i32, i32, i32, i32) -> i32;
    sqlite3_backup_step(i32, i32) -> i32;
    sqlite3_backup_finish(i32) -> i32;
    sqlite3_backup_remaining(i32) -> i32;
    sqlite3_backup_pagecount(i32) -> i32;
    sqlite3_wal_checkpoint_v2(i32, i32, i32, i32, i32) -> i32;
}
