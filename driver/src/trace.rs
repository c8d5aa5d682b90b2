//! `trace` and `profile`, as rusqlite has them, over `sqlite3_trace_v2`.

use crate::connection::Connection;
use crate::error::Result;
use sandlite_sqlite_wasm::{TraceEvent, ffi};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// The callbacks a connection traces with, and the SQL of statements running (what the
/// profile callback reports when they finish).
#[derive(Default)]
pub(crate) struct TraceState {
    trace: Option<fn(&str)>,
    profile: Option<fn(&str, Duration)>,
    running: HashMap<i32, String>,
}

impl Connection {
    /// Calls `trace_fn` with the SQL of every statement as it starts running (and with
    /// a `-- TRIGGER name` comment for each trigger); `None` stops it.
    ///
    /// rusqlite's (legacy `sqlite3_trace`) passes the SQL with bound parameters
    /// expanded; here it is the text as prepared.
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn trace(&mut self, trace_fn: Option<fn(&str)>) -> Result<()> {
        self.update_trace(|t| t.trace = trace_fn)
    }

    /// Calls `profile_fn` with the SQL and the running time of every statement when it
    /// finishes; `None` stops it.
    ///
    /// # Errors
    /// If the connection is broken.
    pub fn profile(&mut self, profile_fn: Option<fn(&str, Duration)>) -> Result<()> {
        self.update_trace(|t| t.profile = profile_fn)
    }

    fn update_trace(&self, change: impl FnOnce(&mut TraceState)) -> Result<()> {
        let state = self.trace_state();
        let mask = {
            let mut t = state.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut t);
            t.running.clear();
            match (t.trace.is_some(), t.profile.is_some()) {
                (false, false) => 0,
                (true, false) => ffi::SQLITE_TRACE_STMT,
                // The profile callback needs the SQL the statement started with.
                _ => ffi::SQLITE_TRACE_STMT | ffi::SQLITE_TRACE_PROFILE,
            }
        };
        let hook = (mask != 0).then(|| {
            let state = Arc::clone(state);
            Box::new(move |event: TraceEvent<'_>| {
                let mut t = state.lock().unwrap_or_else(PoisonError::into_inner);
                match event {
                    TraceEvent::Stmt { stmt, sql } => {
                        if let Some(f) = t.trace {
                            f(sql);
                        }
                        if t.profile.is_some() && !sql.starts_with("--") {
                            t.running.insert(stmt, sql.to_owned());
                        }
                    }
                    TraceEvent::Profile { stmt, nanos } => {
                        let sql = t.running.remove(&stmt).unwrap_or_default();
                        if let Some(f) = t.profile {
                            f(
                                &sql,
                                Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)),
                            );
                        }
                    }
                }
            }) as sandlite_sqlite_wasm::TraceHook
        });
        let mut inner = self.inner()?;
        let db = inner.db;
        inner.sqlite.set_trace(db, mask, hook)?;
        Ok(())
    }
}
