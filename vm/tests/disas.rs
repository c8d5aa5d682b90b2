//! Blessed disassembly: each `tests/disas/NAME.wat` is compiled and its functions'
//! machine code, disassembled (Intel syntax), must equal `tests/disas/NAME.disas`, so a
//! change in code generation shows up in review. Regenerate the expected files with
//! `SANDLITE_BLESS=1 cargo test --release -p sandlite-vm --test disas`.
//!
//! The code is generated for the baseline x86-64 CPU (`Config::baseline_cpu`), so the
//! files do not depend on the machine; `simd*` files (vectors need SSE4.1) use SSE4.1
//! and nothing the baseline lacks besides (`Config::no_avx`); `vex*` files use every
//! feature the compiler knows up to AVX2 (skipped, with a line saying so, on a CPU
//! without AVX2).
//!
//! Debugging aid: `SANDLITE_DISAS_WASM=file.wasm [SANDLITE_DISAS_FUNC=name]` prints the
//! compiled code of any module (for example sqlite3.wasm) instead.

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};
use sandlite_vm::{Config, Engine, Module, Strategy};
use std::fmt::Write;
use std::path::Path;

fn disassemble(module: &Module, only: Option<&str>) -> String {
    let mut out = String::new();
    let mut f = IntelFormatter::new();
    f.options_mut().set_first_operand_char_index(8);
    for (name, code) in module.native_code().expect("compiled") {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        writeln!(out, "{name}:").unwrap();
        let mut d = Decoder::with_ip(64, &code, 0, DecoderOptions::NONE);
        let mut ins = Instruction::default();
        let mut text = String::new();
        while d.can_decode() {
            d.decode_out(&mut ins);
            // Padding between functions.
            if ins.code() == iced_x86::Code::Int3 {
                continue;
            }
            text.clear();
            f.format(&ins, &mut text);
            writeln!(out, "  {:4x}  {text}", ins.ip()).unwrap();
        }
    }
    out
}

/// The CPU features a file's code is generated for.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    /// Plain x86-64.
    Baseline,
    /// This machine's features without AVX (SSE4.1 for vectors).
    NoAvx,
    /// Everything this machine has (AVX2 for `vex*` files).
    Native,
}

fn compile(wasm: &[u8], target: Target) -> Module {
    let engine = Engine::new(
        Config::default()
            .strategy(Strategy::Compiler)
            .baseline_cpu(target == Target::Baseline)
            .no_avx(target == Target::NoAvx),
    );
    Module::new(&engine, wasm).expect("compiles")
}

#[test]
fn blessed_disassembly() {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return;
    }
    if let Ok(path) = std::env::var("SANDLITE_DISAS_WASM") {
        let only = std::env::var("SANDLITE_DISAS_FUNC").ok();
        let m = compile(
            &std::fs::read(path).expect("read the module"),
            Target::Native,
        );
        print!("{}", disassemble(&m, only.as_deref()));
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/disas");
    let bless = std::env::var_os("SANDLITE_BLESS").is_some();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wat"))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let mut mismatches = Vec::new();
    for wat in &names {
        let text = std::fs::read_to_string(wat).unwrap();
        let buf = wast::parser::ParseBuffer::new(&text).unwrap();
        let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
        // Vectors need SSE4.1: `simd*` files are compiled for this machine without AVX
        // (they use nothing beyond SSE4.1, so the code is the same on every machine
        // that has it), `vex*` files with AVX2. Signature ids are process-wide and
        // handed out in the order files are compiled, so a file that may be skipped
        // sorts after every file whose code embeds one.
        let name = wat.file_name().unwrap().to_string_lossy().into_owned();
        let target = if name.starts_with("simd") {
            Target::NoAvx
        } else if name.starts_with("vex") {
            Target::Native
        } else {
            Target::Baseline
        };
        if target == Target::NoAvx && !has_feature("sse4.1") {
            println!("{}: skipped: this CPU has no SSE4.1", wat.display());
            continue;
        }
        if target == Target::Native && !has_feature("avx2") {
            println!("{}: skipped: this CPU has no AVX2", wat.display());
            continue;
        }
        let m = compile(&module.encode().unwrap(), target);
        let got = disassemble(&m, None);
        let expected_path = wat.with_extension("disas");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            mismatches.push(format!(
                "{}: disassembly changed (SANDLITE_BLESS=1 to accept)\n--- got\n{got}",
                wat.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Whether this CPU has `feature` (`sse4.1`, which compiled vector code needs, or `avx2`).
fn has_feature(feature: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match feature {
            "sse4.1" => std::arch::is_x86_feature_detected!("sse4.1"),
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            _ => unreachable!("a feature this test asks for"),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = feature;
        false
    }
}
