//! The VM benchmark kernels (`benches/kernels/`) on the interpreter agree with their
//! native Rust twins, and the twins with independent references, on quick inputs.
//! `benches/vm.rs` times the same pairs on larger inputs.

#[path = "../benches/kernels/kernels.rs"]
mod kernels;
#[path = "../benches/kernels/simd_kernels.rs"]
#[allow(dead_code)]
mod simd_kernels;

use kernels::{Guest, native};

#[test]
fn fib_matches_native_and_known_values() {
    let mut guest = Guest::<u32, u32>::new(kernels::FIB_WASM, "fib").unwrap();
    for (n, expected) in [(0, 0), (1, 1), (2, 1), (10, 55), (20, 6765), (24, 46_368)] {
        assert_eq!(native::fib(n), expected, "native fib({n})");
        assert_eq!(guest.call(n).unwrap(), expected, "interpreted fib({n})");
    }
}

#[test]
fn sieve_matches_native_and_prime_counts() {
    let mut guest = Guest::<u32, i32>::new(kernels::SIEVE_WASM, "sieve").unwrap();
    let mut composite = native::sieve_buffer();
    // π(x) from any table of prime counts.
    for (limit, primes) in [
        (0, 0),
        (1, 0),
        (2, 1),
        (10, 4),
        (97, 25),
        (10_000, 1229),
        (100_000, 9592),
    ] {
        assert_eq!(
            native::sieve(&mut composite, limit),
            primes,
            "native sieve({limit})"
        );
        assert_eq!(
            guest.call(limit).unwrap(),
            primes,
            "interpreted sieve({limit})"
        );
    }
}

#[test]
fn sieve_refuses_limits_beyond_its_buffer() {
    let mut guest = Guest::<u32, i32>::new(kernels::SIEVE_WASM, "sieve").unwrap();
    let mut composite = native::sieve_buffer();
    let too_big = kernels::SIEVE_MAX_LIMIT + 1;
    assert_eq!(native::sieve(&mut composite, too_big), -1);
    assert_eq!(guest.call(too_big).unwrap(), -1);
}

#[test]
fn matmul_matches_native_and_hand_computed_products() {
    let mut guest = Guest::<u32, f64>::new(kernels::MATMUL_WASM, "matmul").unwrap();
    let mut matrices = native::Matrices::new();
    // n = 1: A = [-4.5], B = [-5.5].
    // n = 2: A = [-4.5 4; 1.5 0.5], B = [-5.5 -2.5; 1 4], so
    // C = [28.75 27.25; -7.75 -1.75] and 28.75 + 2·27.25 − 3·7.75 − 4·1.75 = 53.
    for (n, expected) in [(1, 24.75), (2, 53.0)] {
        assert_eq!(
            native::matmul(&mut matrices, n),
            expected,
            "native matmul({n})"
        );
        assert_eq!(guest.call(n).unwrap(), expected, "interpreted matmul({n})");
    }
    for n in [3, 7, 16, 33] {
        let want = native::matmul(&mut matrices, n);
        assert_eq!(
            guest.call(n).unwrap().to_bits(),
            want.to_bits(),
            "matmul({n})"
        );
    }
    for n in [0, kernels::MATMUL_MAX_N + 1] {
        assert_eq!(native::matmul(&mut matrices, n), -1.0);
        assert_eq!(guest.call(n).unwrap(), -1.0);
    }
}

#[test]
fn calls_matches_native() {
    let mut guest = Guest::<u32, u32>::new(kernels::CALLS_WASM, "calls").unwrap();
    // n = 1: mix(1, 0) = 1, then steps[(1 >> 7) & 3] = step_add(1, 0) = 1.
    assert_eq!(native::calls(0), 1);
    assert_eq!(native::calls(1), 1);
    let mut seen = std::collections::HashSet::new();
    for n in [0, 1, 2, 5, 100, 1000, 20_000] {
        let want = native::calls(n);
        seen.insert(want);
        assert_eq!(guest.call(n).unwrap(), want, "calls({n})");
    }
    // The values differ, so the loop really depends on its input.
    assert!(
        seen.len() >= 6,
        "calls() gave too few distinct values: {seen:?}"
    );
}

#[test]
fn heapsort_sorts_like_the_standard_library() {
    let mut keys = vec![0; 5000];
    native::generate_keys(&mut keys, 42);
    let mut expected = keys.clone();
    expected.sort_unstable();
    native::heapsort(&mut keys);
    assert_eq!(keys, expected);
}

#[test]
fn sort_hash_matches_native_and_a_std_sort_reference() {
    let mut guest = Guest::<(u32, u32), u32>::new(kernels::SORT_WASM, "sort_hash").unwrap();
    let mut buffer = native::sort_buffer();
    for (n, seed) in [(0, 1), (1, 7), (2, 7), (3, 0), (1000, 42), (20_000, 0x5eed)] {
        let mut reference = vec![0; n as usize];
        native::generate_keys(&mut reference, seed);
        reference.sort_unstable();
        let expected = native::fnv1a(&reference);
        assert_eq!(
            native::sort_hash(&mut buffer, n, seed),
            expected,
            "native sort_hash({n}, {seed})"
        );
        assert_eq!(
            guest.call((n, seed)).unwrap(),
            expected,
            "interpreted sort_hash({n}, {seed})"
        );
    }
}

#[test]
fn sort_hash_refuses_more_keys_than_its_buffer() {
    let mut guest = Guest::<(u32, u32), u32>::new(kernels::SORT_WASM, "sort_hash").unwrap();
    let mut buffer = native::sort_buffer();
    let too_many = kernels::SORT_MAX_KEYS + 1;
    assert_eq!(native::sort_hash(&mut buffer, too_many, 1), 0);
    assert_eq!(guest.call((too_many, 1)).unwrap(), 0);
}

#[test]
fn simd_scalar_and_native_kernels_agree() {
    use simd_kernels::*;
    let haystack = haystack();
    let (a, b) = dot_operands();
    let variants = checked_wasm_kernels(&haystack, &a, &b);
    assert_eq!(
        variants.len(),
        3,
        "SIMD Wasm on both engines and scalar Wasm"
    );
    // The data is not degenerate: the answers depend on it.
    assert!(count_byte_native(&haystack, NEEDLE) > 1000);
    assert_ne!(dot_f32_native(&a, &b), 0.0);
}
