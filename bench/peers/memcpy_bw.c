/* memcpy_bw: the memory-bandwidth ceiling of bench/compare. One thread copies a buffer much larger
 * than the last-level cache with memcpy() for about SECONDS and prints one JSON line:
 * gbyte_s (bytes copied per second, 1e9 bytes = 1 GB; every byte is read once and written once),
 * the buffer size, the number of copies and the time taken. Not a test: it reports, it asserts nothing.
 *
 * Built at run time by bench/compare into build/peers/ (cc -O2; no dependencies):
 *
 *   cc -O2 -o build/peers/memcpy_bw bench/peers/memcpy_bw.c
 *
 * Usage: memcpy_bw [SECONDS (default 2)] [MIB (default 256)]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    const long mib = argc > 2 ? atol(argv[2]) : 256;
    if (seconds <= 0 || mib <= 0) {
        fprintf(stderr, "usage: memcpy_bw [SECONDS > 0] [MIB > 0]\n");
        return 2;
    }
    const size_t size = (size_t)mib << 20;
    char* src = malloc(size);
    char* dst = malloc(size);
    if (src == NULL || dst == NULL) {
        fprintf(stderr, "memcpy_bw: cannot allocate 2 x %ld MiB\n", mib);
        return 1;
    }
    /* Touch every page first, so that page faults are not timed. */
    memset(src, 'x', size);
    memset(dst, 0, size);
    memcpy(dst, src, size); /* warm-up */

    long copies = 0;
    const double start = now_seconds();
    double elapsed = 0;
    do {
        src[(size_t)copies % size] = (char)copies; /* a different buffer each time: no copy elided */
        memcpy(dst, src, size);
        ++copies;
        elapsed = now_seconds() - start;
    } while (elapsed < seconds);

    /* Read the destination, so that the copies are observable and cannot be optimised away. */
    unsigned long check = 0;
    for (size_t i = 0; i < size; i += 4096) {
        check += (unsigned char)dst[i];
    }
    printf("{\"gbyte_s\": %.2f, \"buffer_mib\": %ld, \"copies\": %ld, \"seconds\": %.3f, \"check\": %lu}\n",
           (double)copies * (double)size / elapsed / 1e9, mib, copies, elapsed, check);
    free(src);
    free(dst);
    return 0;
}
