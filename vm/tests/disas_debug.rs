// Temporary debugging aid: SANDLITE_DISAS=file.wat prints the compiled code.
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
use sandlite_vm::{Config, Engine, Module, Strategy};

#[test]
fn disas_env() {
    let Ok(path) = std::env::var("SANDLITE_DISAS") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let wasm = wast::parser::parse::<wast::Wat>(&wast::parser::ParseBuffer::new(&text).unwrap())
        .unwrap()
        .encode()
        .unwrap();
    let engine = Engine::new(Config::default().strategy(Strategy::Compiler));
    let m = Module::new(&engine, &wasm).unwrap();
    let only = std::env::var("SANDLITE_DISAS_FUNC").ok();
    for (name, code) in m.native_code().unwrap() {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        println!("{name}:");
        let mut d = Decoder::with_ip(64, &code, 0, DecoderOptions::NONE);
        let mut f = IntelFormatter::new();
        let mut out = String::new();
        for ins in &mut d {
            out.clear();
            f.format(&ins, &mut out);
            println!("  {:4x}: {out}", ins.ip());
        }
    }
}

#[test]
fn compile_file_env() {
    let Ok(path) = std::env::var("SANDLITE_COMPILE") else {
        return;
    };
    let wasm = std::fs::read(path).unwrap();
    let engine = Engine::new(Config::default().strategy(Strategy::Compiler));
    match Module::new(&engine, &wasm) {
        Ok(_) => println!("compiled"),
        Err(e) => println!("error: {e}"),
    }
}

#[test]
fn disas_file_env() {
    let Ok(path) = std::env::var("SANDLITE_DISAS_WASM") else {
        return;
    };
    let wasm = std::fs::read(path).unwrap();
    let engine = Engine::new(Config::default().strategy(Strategy::Compiler));
    let m = Module::new(&engine, &wasm).unwrap();
    let only = std::env::var("SANDLITE_DISAS_FUNC").ok();
    for (name, code) in m.native_code().unwrap() {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        println!("{name}:");
        let mut d = Decoder::with_ip(64, &code, 0, DecoderOptions::NONE);
        let mut f = IntelFormatter::new();
        let mut out = String::new();
        for ins in &mut d {
            out.clear();
            f.format(&ins, &mut out);
            println!("  {:4x}: {out}", ins.ip());
        }
    }
}
