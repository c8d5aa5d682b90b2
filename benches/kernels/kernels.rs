//! The VM benchmark kernels, each twice: as a WebAssembly module compiled from C
//! (`benches/kernels/NAME.c`, rebuilt by `build.sh`, loaded with `include_bytes!`) and
//! as the same algorithm in native Rust ([`native`]).
//!
//! Shared through `#[path]` by `benches/vm.rs`, which times the two side by side, and
//! `tests/kernels.rs`, which checks that they agree. Keep each Rust twin line for line
//! with its C source: the comparison is only honest while both run the same algorithm.

use sandlite::vm::{
    Config, Engine, Linker, Module, Result, Store, Strategy, TypedFunc, WasmParams, WasmResults,
};

/// `unsigned fib(unsigned n)`: recursive Fibonacci.
pub const FIB_WASM: &[u8] = include_bytes!("fib.wasm");
/// `int sieve(unsigned limit)`: primes up to `limit`.
pub const SIEVE_WASM: &[u8] = include_bytes!("sieve.wasm");
/// `double matmul(unsigned n)`: checksum of an `n`×`n` f64 matrix product.
pub const MATMUL_WASM: &[u8] = include_bytes!("matmul.wasm");
/// `unsigned calls(unsigned n)`: `n` rounds of small direct and indirect calls.
pub const CALLS_WASM: &[u8] = include_bytes!("calls.wasm");
/// `unsigned sort_hash(unsigned n, unsigned seed)`: heapsort `n` keys, then FNV-1a.
pub const SORT_WASM: &[u8] = include_bytes!("sort.wasm");

/// `SIEVE_MAX_LIMIT` in `sieve.c`: the largest limit its static buffer holds.
pub const SIEVE_MAX_LIMIT: u32 = 1 << 22;
/// `MATMUL_MAX_N` in `matmul.c`.
pub const MATMUL_MAX_N: u32 = 128;
/// `SORT_MAX_KEYS` in `sort.c`.
pub const SORT_MAX_KEYS: u32 = 1 << 20;

/// One kernel instantiated on the interpreter in a store of its own.
pub struct Guest<P, R> {
    store: Store<()>,
    func: TypedFunc<P, R>,
}

impl<P: WasmParams, R: WasmResults> Guest<P, R> {
    /// Compiles `wasm`, instantiates it without imports and looks up `export`.
    ///
    /// # Errors
    /// If the module does not load or the export is missing or has another signature.
    #[allow(dead_code)] // tests/kernels.rs uses it; the bench picks its engines
    pub fn new(wasm: &[u8], export: &str) -> Result<Self> {
        Self::on(wasm, export, Strategy::Auto)
    }

    /// As [`Guest::new`], on the engine `strategy` picks.
    pub fn on(wasm: &[u8], export: &str, strategy: Strategy) -> Result<Self> {
        Self::with_config(wasm, export, Config::default().strategy(strategy))
    }

    /// As [`Guest::new`], with an engine configured by `config`.
    pub fn with_config(wasm: &[u8], export: &str, config: Config) -> Result<Self> {
        let engine = Engine::new(config);
        let module = Module::new(&engine, wasm)?;
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
        let func = instance.get_typed_func::<P, R>(&store, export)?;
        Ok(Guest { store, func })
    }

    /// Runs the kernel once.
    ///
    /// # Errors
    /// If the kernel traps.
    pub fn call(&mut self, params: P) -> Result<R> {
        self.func.call(&mut self.store, params)
    }
}

/// The native Rust twins of the C kernels. Buffers that C keeps in static arrays of
/// linear memory are passed in by the caller, so no call allocates.
pub mod native {
    use super::{MATMUL_MAX_N, SIEVE_MAX_LIMIT, SORT_MAX_KEYS};

    /// `fib.c`.
    pub fn fib(n: u32) -> u32 {
        if n < 2 {
            n
        } else {
            fib(n - 1).wrapping_add(fib(n - 2))
        }
    }

    /// The byte array of `sieve.c`.
    pub fn sieve_buffer() -> Vec<u8> {
        vec![0; SIEVE_MAX_LIMIT as usize + 1]
    }

    /// `sieve.c`: the number of primes up to `limit`, or -1 if `composite` (from
    /// [`sieve_buffer`]) cannot hold `limit + 1` flags.
    pub fn sieve(composite: &mut [u8], limit: u32) -> i32 {
        let Some(composite) = composite.get_mut(..=limit as usize) else {
            return -1;
        };
        composite.fill(0);
        let mut count = 0;
        for i in 2..=limit {
            if composite[i as usize] != 0 {
                continue;
            }
            count += 1;
            if i > limit / i {
                continue; // i * i would pass limit
            }
            let mut j = i * i;
            while j <= limit {
                composite[j as usize] = 1;
                j += i;
            }
        }
        count
    }

    /// The three matrices of `matmul.c`.
    pub struct Matrices {
        a: Vec<f64>,
        b: Vec<f64>,
        c: Vec<f64>,
    }

    impl Matrices {
        /// Room for `MATMUL_MAX_N`×`MATMUL_MAX_N` matrices.
        pub fn new() -> Matrices {
            let len = (MATMUL_MAX_N * MATMUL_MAX_N) as usize;
            Matrices {
                a: vec![0.0; len],
                b: vec![0.0; len],
                c: vec![0.0; len],
            }
        }
    }

    /// `matmul.c`: fills A and B from `n`, computes C = A·B in i-j-k order and returns
    /// the sum of C's entries weighted by `index % 7 + 1`; -1 if `n` is 0 or too large.
    pub fn matmul(m: &mut Matrices, n: u32) -> f64 {
        if n == 0 || n > MATMUL_MAX_N {
            return -1.0;
        }
        let n = n as usize;
        for i in 0..n {
            for j in 0..n {
                m.a[i * n + j] = f64::from(((i * 31 + j * 17) % 19) as i32 - 9) * 0.5;
                m.b[i * n + j] = f64::from(((i * 13 + j * 29) % 23) as i32 - 11) * 0.5;
            }
        }
        for i in 0..n {
            for j in 0..n {
                let mut sum = 0.0;
                for k in 0..n {
                    sum += m.a[i * n + k] * m.b[k * n + j];
                }
                m.c[i * n + j] = sum;
            }
        }
        let mut checksum = 0.0;
        for (i, c) in m.c[..n * n].iter().enumerate() {
            checksum += c * ((i % 7 + 1) as f64);
        }
        checksum
    }

    #[inline(never)]
    fn step_add(acc: u32, x: u32) -> u32 {
        acc.wrapping_add(x)
    }

    #[inline(never)]
    fn step_xor(acc: u32, x: u32) -> u32 {
        acc ^ x.wrapping_mul(0x9e37_79b9)
    }

    #[inline(never)]
    fn step_rotl(acc: u32, x: u32) -> u32 {
        acc.rotate_left(5).wrapping_add(x)
    }

    #[inline(never)]
    fn step_mul(acc: u32, x: u32) -> u32 {
        acc.wrapping_mul(31).wrapping_add(x)
    }

    /// The function table `steps` of `calls.c`.
    static STEPS: [fn(u32, u32) -> u32; 4] = [step_add, step_xor, step_rotl, step_mul];

    #[inline(never)]
    fn mix(acc: u32, i: u32) -> u32 {
        step_add(step_xor(acc, i), i >> 3)
    }

    /// `calls.c`: `n` rounds of three direct calls, plus an indirect call every fourth.
    pub fn calls(n: u32) -> u32 {
        let mut acc = 1;
        for i in 0..n {
            acc = mix(acc, i);
            if i & 3 == 0 {
                acc = STEPS[((acc >> 7) & 3) as usize](acc, i);
            }
        }
        acc
    }

    /// The key array of `sort.c`.
    pub fn sort_buffer() -> Vec<u32> {
        vec![0; SORT_MAX_KEYS as usize]
    }

    /// The xorshift32 keys `sort.c` generates from `seed`, in generation order.
    pub fn generate_keys(keys: &mut [u32], seed: u32) {
        let mut state = seed | 1; // xorshift32 must not start at 0
        for key in keys {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            *key = state;
        }
    }

    fn sift_down(heap: &mut [u32], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && heap[child] < heap[child + 1] {
                child += 1;
            }
            if heap[root] >= heap[child] {
                return;
            }
            heap.swap(root, child);
            root = child;
        }
    }

    /// Sorts `keys` ascending with the heapsort of `sort.c`.
    pub fn heapsort(keys: &mut [u32]) {
        let n = keys.len();
        for start in (0..n / 2).rev() {
            sift_down(keys, start, n);
        }
        for end in (1..n).rev() {
            keys.swap(0, end);
            sift_down(keys, 0, end);
        }
    }

    /// FNV-1a (32-bit) over the little-endian bytes of `keys`.
    pub fn fnv1a(keys: &[u32]) -> u32 {
        let mut hash: u32 = 2_166_136_261;
        for key in keys {
            for byte in key.to_le_bytes() {
                hash ^= u32::from(byte);
                hash = hash.wrapping_mul(16_777_619);
            }
        }
        hash
    }

    /// `sort.c`: generates `n` keys from `seed` into `keys` (from [`sort_buffer`]),
    /// heapsorts them and returns their FNV-1a hash; 0 if `keys` is shorter than `n`.
    pub fn sort_hash(keys: &mut [u32], n: u32, seed: u32) -> u32 {
        let Some(keys) = keys.get_mut(..n as usize) else {
            return 0;
        };
        generate_keys(keys, seed);
        heapsort(keys);
        fnv1a(keys)
    }
}
