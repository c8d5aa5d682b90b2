/* Recursive Fibonacci: almost no work per call, so it measures the cost of a
 * direct call and return. The Rust twin is `native::fib` in kernels.rs. */

__attribute__((export_name("fib")))
unsigned fib(unsigned n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
