/* Naive dense matrix multiply C = A * B of n x n f64 matrices in linear
 * memory (the i-j-k dot-product order): f64 multiply-add and strided loads.
 * The entries are small multiples of 1/2, so every product and sum is exact
 * and the checksum does not depend on rounding. The Rust twin is
 * `native::matmul`. */

#define MATMUL_MAX_N 128

static double a[MATMUL_MAX_N * MATMUL_MAX_N];
static double b[MATMUL_MAX_N * MATMUL_MAX_N];
static double c[MATMUL_MAX_N * MATMUL_MAX_N];

/* Fills A and B from n, multiplies them and returns the sum of C's entries
 * each weighted by (index % 7 + 1); -1 if n is 0 or above MATMUL_MAX_N. */
__attribute__((export_name("matmul")))
double matmul(unsigned n) {
    if (n == 0 || n > MATMUL_MAX_N) return -1.0;
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            a[i * n + j] = (double)((int)((i * 31 + j * 17) % 19) - 9) * 0.5;
            b[i * n + j] = (double)((int)((i * 13 + j * 29) % 23) - 11) * 0.5;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            double sum = 0.0;
            for (unsigned k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
            c[i * n + j] = sum;
        }
    }
    double checksum = 0.0;
    for (unsigned i = 0; i < n * n; i++) checksum += c[i] * (double)(i % 7 + 1);
    return checksum;
}
