/* Memory-heavy: fill a buffer of n u32 keys from a xorshift32 generator,
 * heapsort it in place (scattered loads and stores across the buffer), then
 * hash the sorted bytes with FNV-1a. The Rust twin is `native::sort_hash`. */

#define SORT_MAX_KEYS (1u << 20)

static unsigned keys[SORT_MAX_KEYS];

static void sift_down(unsigned *heap, unsigned root, unsigned end) {
    for (;;) {
        unsigned child = 2 * root + 1;
        if (child >= end) return;
        if (child + 1 < end && heap[child] < heap[child + 1]) child++;
        if (heap[root] >= heap[child]) return;
        unsigned t = heap[root];
        heap[root] = heap[child];
        heap[child] = t;
        root = child;
    }
}

/* The FNV-1a hash of the n sorted keys (little-endian bytes) generated from
 * seed, or 0 if n exceeds SORT_MAX_KEYS. */
__attribute__((export_name("sort_hash")))
unsigned sort_hash(unsigned n, unsigned seed) {
    if (n > SORT_MAX_KEYS) return 0;
    unsigned state = seed | 1; /* xorshift32 must not start at 0 */
    for (unsigned i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        keys[i] = state;
    }
    for (unsigned start = n / 2; start-- > 0;) sift_down(keys, start, n);
    for (unsigned end = n; end-- > 1;) {
        unsigned t = keys[0];
        keys[0] = keys[end];
        keys[end] = t;
        sift_down(keys, 0, end);
    }
    unsigned hash = 2166136261u;
    for (unsigned i = 0; i < n; i++) {
        for (unsigned shift = 0; shift < 32; shift += 8) {
            hash ^= (keys[i] >> shift) & 0xff;
            hash *= 16777619u;
        }
    }
    return hash;
}
