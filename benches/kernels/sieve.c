/* Sieve of Eratosthenes over a byte array in linear memory: tight loops of
 * byte loads and stores with a stride. The Rust twin is `native::sieve`. */

#define SIEVE_MAX_LIMIT (1u << 22)

static unsigned char composite[SIEVE_MAX_LIMIT + 1];

/* The number of primes p with p <= limit, or -1 if limit exceeds
 * SIEVE_MAX_LIMIT. */
__attribute__((export_name("sieve")))
int sieve(unsigned limit) {
    if (limit > SIEVE_MAX_LIMIT) return -1;
    for (unsigned i = 0; i <= limit; i++) composite[i] = 0;
    int count = 0;
    for (unsigned i = 2; i <= limit; i++) {
        if (composite[i]) continue;
        count++;
        if (i > limit / i) continue; /* i * i would pass limit */
        for (unsigned j = i * i; j <= limit; j += i) composite[j] = 1;
    }
    return count;
}
