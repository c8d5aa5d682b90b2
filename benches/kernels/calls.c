/* Call-heavy loop: three small direct calls per iteration and, every fourth
 * iteration, one call_indirect through a table of four functions chosen by
 * the running value. The Rust twin is `native::calls`. */

#define NOINLINE __attribute__((noinline))

typedef unsigned (*step_fn)(unsigned acc, unsigned x);

static NOINLINE unsigned step_add(unsigned acc, unsigned x) { return acc + x; }
static NOINLINE unsigned step_xor(unsigned acc, unsigned x) { return acc ^ (x * 0x9e3779b9u); }
static NOINLINE unsigned step_rotl(unsigned acc, unsigned x) { return ((acc << 5) | (acc >> 27)) + x; }
static NOINLINE unsigned step_mul(unsigned acc, unsigned x) { return acc * 31u + x; }

static step_fn const steps[4] = { step_add, step_xor, step_rotl, step_mul };

static NOINLINE unsigned mix(unsigned acc, unsigned i) {
    return step_add(step_xor(acc, i), i >> 3);
}

/* Runs n iterations from a fixed start value and returns the final value. */
__attribute__((export_name("calls")))
unsigned calls(unsigned n) {
    unsigned acc = 1;
    for (unsigned i = 0; i < n; i++) {
        acc = mix(acc, i);
        if ((i & 3) == 0) acc = steps[(acc >> 7) & 3](acc, i);
    }
    return acc;
}
