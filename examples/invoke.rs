//! Loads a WebAssembly module, calls one of its exports and prints the results or the trap.
//!
//! ```text
//! cargo run --release --example invoke -- module.wasm add 1 2
//! ```
//!
//! Arguments are parsed according to the export's parameter types (integers, floats).
//! Imports, if any, are satisfied with host functions that trap when called, so
//! self-contained modules work and others report which import they reached.

use sandlite::vm::{Engine, ExternType, Func, Linker, Module, Store, Trap, Val, ValType};
use std::process::ExitCode;

fn parse_arg(text: &str, ty: ValType) -> Result<Val, String> {
    let bad = |e: &dyn std::fmt::Display| format!("`{text}` is not a valid {ty}: {e}");
    Ok(match ty {
        ValType::I32 => Val::I32(
            text.parse::<i32>()
                .or_else(|_| text.parse::<u32>().map(|v| v as i32))
                .map_err(|e| bad(&e))?,
        ),
        ValType::I64 => Val::I64(
            text.parse::<i64>()
                .or_else(|_| text.parse::<u64>().map(|v| v as i64))
                .map_err(|e| bad(&e))?,
        ),
        ValType::F32 => Val::from(text.parse::<f32>().map_err(|e| bad(&e))?),
        ValType::F64 => Val::from(text.parse::<f64>().map_err(|e| bad(&e))?),
        other => return Err(format!("cannot pass a {other} from the command line")),
    })
}

fn show(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(_) => v.f32().unwrap_or_default().to_string(),
        Val::F64(_) => v.f64().unwrap_or_default().to_string(),
        Val::V128(x) => format!("{:#034x}", x.0),
        Val::FuncRef(f) => format!("funcref({})", if f.is_some() { "func" } else { "null" }),
        Val::ExternRef(r) => format!("externref({r:?})"),
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, name, rest @ ..] = args.as_slice() else {
        return Err("usage: invoke MODULE.wasm EXPORT [ARGS...]".into());
    };
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let engine = Engine::default();
    let start = std::time::Instant::now();
    let module = Module::new(&engine, &bytes).map_err(|e| format!("{path}: {e}"))?;
    eprintln!(
        "compiled {path} in {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    for import in module.imports() {
        if let ExternType::Func(ty) = import.ty {
            let what = format!("{}::{}", import.module, import.name);
            linker
                .func_new(import.module, import.name, ty, move |_, _, _| {
                    Err(Trap::host_message(format!("import {what} is not provided")))
                })
                .map_err(|e| e.to_string())?;
        }
    }
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| e.to_string())?;
    let func: Func = instance
        .get_func(&store, name)
        .ok_or_else(|| format!("no exported function `{name}`"))?;
    let ty = func.ty(&store);
    if rest.len() != ty.params().len() {
        return Err(format!(
            "`{name}` has type {ty}: give {} arguments",
            ty.params().len()
        ));
    }
    let params = rest
        .iter()
        .zip(ty.params())
        .map(|(a, t)| parse_arg(a, *t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    func.call(&mut store, &params, &mut results)
        .map_err(|e| format!("{name}: {e}"))?;
    let shown: Vec<String> = results.iter().map(show).collect();
    println!("{}", shown.join(" "));
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
