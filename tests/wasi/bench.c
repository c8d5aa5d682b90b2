// The WASI benchmark program: one C source built for wasm32-wasi (tests/wasi/bench.wasm,
// by tests/wasi/build.sh) and, by benches/wasi.rs, natively for x86-64 with the same
// clang, so the two run the same code.
//
//   bench sieve N          count the primes below N (byte array, tight loops)
//   bench hash MIB         generate MIB MiB of xorshift data and FNV-1a hash it
//   bench files PATH MIB   write MIB MiB to PATH in 64 KiB chunks, read it back,
//                          checksum it, delete it (system calls and copies)
//
// Each prints one line with its result, which the bench compares between the builds.

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static uint64_t chunk[CHUNK / 8];

static uint32_t sieve(uint32_t n) {
  unsigned char *composite = calloc(n + 1, 1);
  if (!composite) return 0;
  uint32_t count = 0;
  for (uint32_t i = 2; i < n; i++) {
    if (composite[i]) continue;
    count++;
    for (uint64_t j = (uint64_t)i * i; j < n; j += i) composite[j] = 1;
  }
  free(composite);
  return count;
}

static uint64_t hash(uint32_t mib) {
  uint64_t h = 0xcbf29ce484222325ull, x = 0x9e3779b97f4a7c15ull;
  unsigned char *bytes = (unsigned char *)chunk;
  for (uint32_t c = 0; c < mib * (1024 * 1024 / CHUNK); c++) {
    for (size_t i = 0; i < CHUNK / 8; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      chunk[i] = x;
    }
    for (size_t i = 0; i < CHUNK; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
  }
  return h;
}

static int files(const char *path, uint32_t mib, uint64_t *sum) {
  uint32_t chunks = mib * (1024 * 1024 / CHUNK);
  for (size_t i = 0; i < CHUNK / 8; i++) chunk[i] = i * 0x9e3779b97f4a7c15ull;
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) return -1;
  for (uint32_t c = 0; c < chunks; c++) {
    chunk[0] = c;
    if (write(fd, chunk, CHUNK) != CHUNK) return -2;
  }
  if (close(fd) != 0) return -3;
  fd = open(path, O_RDONLY);
  if (fd < 0) return -4;
  *sum = 0;
  for (;;) {
    ssize_t n = read(fd, chunk, CHUNK);
    if (n < 0) return -5;
    if (n == 0) break;
    // A light checksum: the first and last words of each chunk.
    *sum += chunk[0] * 31 + chunk[n / 8 - 1];
  }
  close(fd);
  return unlink(path) == 0 ? 0 : -6;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "sieve")) {
    printf("primes below %s: %u\n", argv[2], sieve((uint32_t)strtoul(argv[2], 0, 10)));
  } else if (argc >= 3 && !strcmp(argv[1], "hash")) {
    printf("fnv1a of %s MiB: %016llx\n", argv[2],
           (unsigned long long)hash((uint32_t)strtoul(argv[2], 0, 10)));
  } else if (argc >= 4 && !strcmp(argv[1], "files")) {
    uint64_t sum = 0;
    int r = files(argv[2], (uint32_t)strtoul(argv[3], 0, 10), &sum);
    if (r != 0) {
      printf("files failed: step %d\n", -r);
      return 1;
    }
    printf("wrote and read %s MiB: checksum %016llx\n", argv[3], (unsigned long long)sum);
  } else {
    fprintf(stderr, "usage: bench sieve N | hash MIB | files PATH MIB\n");
    return 2;
  }
  return 0;
}
