/*
 * mech_host.h: the host side of uffd_mech.c (included once by it: one translation unit, one cc
 * call). Timing, skips, the JSON head naming the host, contender sweeps, and the benchmarks
 * that need no userfaultfd: the scheduler wake (wake), the mm-wide mmap_lock (mmaplock) and a
 * contended cache line (cacheline).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_K 64
#define LINE 64
#define WATCHDOG_SEC 25 /* each run takes a few seconds; mech.ts kills at 40 s */

static const char *g_bench = "unknown";
static int g_quick, g_cpus[CPU_SETSIZE], g_ncpus;
static char g_alarm_line[128];
static pthread_barrier_t g_bar;
static atomic_int g_run;

static uint64_t clock_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static pid_t my_tid(void) { return (pid_t)syscall(SYS_gettid); }

/* Every failure is a skip line, never a crash: callers treat the case as unmeasurable. */
static void skip(const char *what, int err) {
    printf("{\"bench\":\"%s\",\"skipped\":true,\"reason\":\"%s%s%s\"}\n", g_bench, what,
           err ? ": " : "", err ? strerror(err) : "");
    fflush(stdout);
    exit(0);
}
static void on_alarm(int sig) { /* async-signal-safe: the line was formatted before alarm() */
    (void)sig;
    ssize_t ignored = write(STDOUT_FILENO, g_alarm_line, strlen(g_alarm_line));
    (void)ignored;
    _exit(0);
}
static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
static void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (sched_setaffinity(0, sizeof s, &s) < 0) skip("sched_setaffinity failed", errno);
}
static int spread_cpu(int i) { return g_ncpus > 0 ? g_cpus[i % g_ncpus] : -1; }
static void start_thread(pthread_t *th, void *(*fn)(void *), void *arg) {
    int err = pthread_create(th, NULL, fn, arg);
    if (err) skip("pthread_create failed", err);
}
/* 0 (if with_zero), 1, 2, 4, ..., max: contender counts for a sweep. */
static int sweep(int with_zero, int max, int *out) {
    int n = 0;
    if (with_zero) out[n++] = 0;
    for (int k = 1; k < max; k *= 2) out[n++] = k;
    if (max >= 1) out[n++] = max;
    return n;
}
/* A contender counts only once the kernel has put it to sleep (state S or D), read from
 * /proc: a flag set just before the syscall cannot tell "about to block" from "blocked". */
static void wait_asleep(pid_t tid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    uint64_t deadline = now_ns() + 3000000000ULL;
    for (;;) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0) close(fd);
        if (n > 0) {
            buf[n] = 0;
            char *p = strrchr(buf, ')');
            if (p && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D')) return;
        }
        if (now_ns() > deadline) skip("a contender thread never went to sleep", 0);
        sched_yield();
    }
}
/* JSON-safe copy: host strings are ours to print, but never trust them to be quote-free. */
static void clean(char *dst, const char *src, size_t cap) {
    size_t i = 0;
    for (; src[i] && src[i] != '\n' && i + 1 < cap; i++)
        dst[i] = (src[i] == '"' || src[i] == '\\' || (unsigned char)src[i] < 32) ? ' ' : src[i];
    dst[i] = 0;
}
/* The head every result shares: which host measured it (a 2-core VM is not a 2-socket host). */
static void print_head(void) {
    char model[128] = "unknown", line[512], kernel[128];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (c && !strncmp(line, "model name", 10)) { clean(model, c + 2, sizeof model); break; }
    }
    if (f) fclose(f);
    struct utsname u;
    clean(kernel, uname(&u) == 0 ? u.release : "unknown", sizeof kernel);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("{\"bench\":\"%s\",\"cpuModel\":\"%s\",\"cpus\":%ld,\"allowedCpus\":%d,\"kernel\":\"%s\","
           "\"hostNote\":\"measured on a %ld-CPU host: contenders beyond %ld time-share the cores, and "
           "every contended line stays on one die; a many-core two-socket host pays more\",\"quick\":%s",
           g_bench, model, cpus, g_ncpus, kernel, cpus, cpus, g_quick ? "true" : "false");
}
static void print_points(const char *key, const int *k, const double *ns, int n) {
    printf(",\"%s\":[", key);
    for (int i = 0; i < n; i++) printf("%s{\"contenders\":%d,\"ns\":%.1f}", i ? "," : "", k[i], ns[i]);
    printf("]");
}
/* ---- loops: k threads repeating one syscall, CPU time per call ---- */
struct looper { pthread_t th; int cpu; uint64_t ops, cpu_ns; int bad; } __attribute__((aligned(LINE)));
static int (*g_op)(void); /* returns 0 when the call behaved as expected */
static char *g_page;
static void *looper_main(void *a) {
    struct looper *l = a;
    pin(l->cpu);
    pthread_barrier_wait(&g_bar);
    uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    while (atomic_load_explicit(&g_run, memory_order_relaxed)) { l->bad |= g_op(); l->ops++; }
    l->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}
static double loop_cost(int k) {
    static struct looper l[MAX_K];
    int reps = g_quick ? 3 : 5;
    double s[8];
    struct timespec run = {0, (g_quick ? 15 : 100) * 1000000L};
    for (int r = 0; r < reps; r++) {
        atomic_store(&g_run, 1);
        pthread_barrier_init(&g_bar, NULL, (unsigned)k + 1);
        for (int j = 0; j < k; j++) {
            l[j] = (struct looper){.cpu = spread_cpu(j)};
            start_thread(&l[j].th, looper_main, &l[j]);
        }
        pthread_barrier_wait(&g_bar);
        nanosleep(&run, NULL);
        atomic_store(&g_run, 0);
        uint64_t ops = 0, cpu = 0;
        int bad = 0;
        for (int j = 0; j < k; j++) { pthread_join(l[j].th, NULL); ops += l[j].ops; cpu += l[j].cpu_ns; bad |= l[j].bad; }
        pthread_barrier_destroy(&g_bar);
        if (bad || ops == 0) skip("the looped call did not behave as expected", 0);
        s[r] = (double)cpu / (double)ops;
    }
    return median(s, reps);
}
static int op_mincore(void) { unsigned char v; return mincore(g_page, PAGE, &v) != 0; }

/* ---- wake: try_to_wake_up as the waker sees it (eventfd_write -> wake_up_locked_poll) ---- */
struct poller { pthread_t th; _Atomic pid_t tid; int cpu; atomic_int polling; } __attribute__((aligned(LINE)));
static int g_efd[2];
static atomic_int g_acks;
/* Round r polls g_efd[r & 1]: the waker drains that one after all acks of round r, long
 * before anyone polls it again in round r + 2, so each poll really sleeps. */
static void *poller_main(void *a) {
    struct poller *p = a;
    pin(p->cpu);
    atomic_store(&p->tid, my_tid());
    for (int r = 0;; r++) {
        struct pollfd pfd = {.fd = g_efd[r & 1], .events = POLLIN};
        atomic_store(&p->polling, r + 1);
        while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {}
        if (!atomic_load(&g_run)) return NULL;
        atomic_fetch_add(&g_acks, 1);
    }
}
static void bench_wake(int kmax) {
    int ks[16], nk = sweep(1, kmax, ks), rounds = g_quick ? 15 : 200;
    double ns[16], *s = calloc((size_t)rounds, sizeof *s);
    static struct poller p[MAX_K];
    uint64_t one = 1, drain;
    /* Waker alone on the first CPU, sleepers on the others: the wake is remote, as for a
     * handler on another core, and no woken thread preempts the write being timed. */
    pin(g_ncpus > 1 ? g_cpus[0] : -1);
    for (int i = 0; i < nk; i++) {
        int k = ks[i];
        for (int e = 0; e < 2; e++)
            if ((g_efd[e] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) skip("eventfd failed", errno);
        atomic_store(&g_run, 1);
        atomic_store(&g_acks, 0);
        for (int j = 0; j < k; j++) {
            p[j].cpu = g_ncpus > 1 ? g_cpus[1 + j % (g_ncpus - 1)] : -1;
            atomic_store(&p[j].polling, 0);
            atomic_store(&p[j].tid, 0);
            start_thread(&p[j].th, poller_main, &p[j]);
        }
        for (int r = 0; r < rounds; r++) {
            for (int j = 0; j < k; j++) {
                while (atomic_load(&p[j].polling) != r + 1) sched_yield();
                wait_asleep(atomic_load(&p[j].tid));
            }
            uint64_t t0 = now_ns();
            if (write(g_efd[r & 1], &one, sizeof one) != sizeof one) skip("eventfd write failed", errno);
            s[r] = (double)(now_ns() - t0);
            while (atomic_load(&g_acks) < k * (r + 1)) sched_yield();
            if (read(g_efd[r & 1], &drain, sizeof drain) != sizeof drain) skip("eventfd drain failed", errno);
        }
        atomic_store(&g_run, 0);
        for (int e = 0; e < 2; e++) if (write(g_efd[e], &one, sizeof one) < 0) skip("eventfd write failed", errno);
        for (int j = 0; j < k; j++) pthread_join(p[j].th, NULL);
        close(g_efd[0]);
        close(g_efd[1]);
        ns[i] = median(s, rounds);
    }
    free(s);
    print_head();
    printf(",\"rounds\":%d,\"sleepersOnOtherCpus\":%s", rounds, g_ncpus > 1 ? "true" : "false");
    print_points("wakeNsPerWrite", ks, ns, nk);
}

static void bench_mmaplock(int kmax) {
    int ks[16], nk = sweep(0, kmax, ks);
    double ns[16];
    g_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_page == MAP_FAILED) skip("mmap failed", errno);
    g_page[0] = 1;
    g_op = op_mincore;
    for (int i = 0; i < nk; i++) ns[i] = loop_cost(ks[i]);
    munmap(g_page, PAGE);
    print_head();
    print_points("mincoreCpuNsPerCall", ks, ns, nk);
}

/* ---- cacheline: the price of one contended line, the unit every lock above pays ---- */
static struct { _Alignas(LINE) atomic_ulong v; } g_line[3];
struct adder { pthread_t th; atomic_ulong *ctr; int cpu; long n; double ns; } __attribute__((aligned(LINE)));
static void *adder_main(void *a) {
    struct adder *d = a;
    pin(d->cpu);
    pthread_barrier_wait(&g_bar);
    uint64_t t0 = now_ns();
    for (long i = 0; i < d->n; i++) atomic_fetch_add(d->ctr, 1);
    d->ns = (double)(now_ns() - t0) / (double)d->n;
    return NULL;
}
static double adders(int t, int shared) {
    struct adder d[2];
    double s[8];
    int reps = g_quick ? 3 : 5;
    for (int r = 0; r < reps; r++) {
        pthread_barrier_init(&g_bar, NULL, (unsigned)t);
        for (int j = 0; j < t; j++) {
            d[j] = (struct adder){.ctr = &g_line[shared ? 0 : 1 + j].v, .cpu = g_cpus[j], .n = g_quick ? 200000 : 4000000};
            start_thread(&d[j].th, adder_main, &d[j]);
        }
        s[r] = 0;
        for (int j = 0; j < t; j++) { pthread_join(d[j].th, NULL); s[r] += d[j].ns / t; }
        pthread_barrier_destroy(&g_bar);
    }
    return median(s, reps);
}
static void bench_cacheline(void) {
    if (g_ncpus < 2) skip("needs two allowed CPUs", 0);
    int k[2] = {1, 2};
    double alone = adders(1, 1), shared[2] = {alone, adders(2, 1)}, own[2] = {alone, adders(2, 0)};
    print_head();
    print_points("sharedLineNsPerAdd", k, shared, 2);
    print_points("ownLineNsPerAdd", k, own, 2);
}


/* ---- wakelat: how long a woken thread takes to run, with and without a cross-CPU IPI ----
 * Two threads ping-pong through two eventfds (a blocking read() sleeps on the eventfd's wait queue
 * and the peer's write() wakes it: try_to_wake_up on one side, the wake-up latency on the other).
 * Pinned to ONE CPU, no IPI is needed: the woken thread runs when the waker blocks. Pinned to two,
 * each wake kicks the other CPU (on a VM: an IPI, which is a VM exit). A half round trip minus the
 * uncontended write+read pair is one wake, both sides of it. */
static int g_ping[2], g_pong[2];
static volatile int g_pp_rounds;
static void *ponger_main(void *a) {
    pin(*(int *)a);
    uint64_t v;
    for (int i = 0; i < g_pp_rounds; i++) {
        if (read(g_ping[0], &v, sizeof v) != sizeof v) skip("eventfd read", errno);
        v = 1;
        if (write(g_pong[0], &v, sizeof v) != sizeof v) skip("eventfd write", errno);
    }
    return NULL;
}
static double pingpong_ns(int cpu_a, int cpu_b, int rounds) {
    g_ping[0] = eventfd(0, 0); g_pong[0] = eventfd(0, 0);
    if (g_ping[0] < 0 || g_pong[0] < 0) skip("eventfd", errno);
    g_pp_rounds = rounds;
    pthread_t th;
    start_thread(&th, ponger_main, &cpu_b);
    pin(cpu_a);
    uint64_t v = 1, t0 = now_ns();
    for (int i = 0; i < rounds; i++) {
        v = 1;
        if (write(g_ping[0], &v, sizeof v) != sizeof v) skip("eventfd write", errno);
        if (read(g_pong[0], &v, sizeof v) != sizeof v) skip("eventfd read", errno);
    }
    double ns = (double)(now_ns() - t0) / rounds;
    pthread_join(th, NULL);
    close(g_ping[0]); close(g_pong[0]);
    return ns;
}
static double eventfd_pair_ns(int rounds) {
    int fd = eventfd(0, 0);
    if (fd < 0) skip("eventfd", errno);
    uint64_t v = 1, t0 = now_ns();
    for (int i = 0; i < rounds; i++) {
        v = 1;
        if (write(fd, &v, sizeof v) != sizeof v || read(fd, &v, sizeof v) != sizeof v) skip("eventfd pair", errno);
    }
    double ns = (double)(now_ns() - t0) / rounds;
    close(fd);
    return ns;
}
static void bench_wakelat(void) {
    if (g_ncpus < 2) skip("needs two allowed CPUs", 0);
    int rounds = g_quick ? 500 : 3000, reps = g_quick ? 3 : 7;
    double same[16], other[16], pair[16];
    for (int r = 0; r < reps; r++) {
        pin(g_cpus[0]);
        pair[r] = eventfd_pair_ns(rounds);
        same[r] = pingpong_ns(g_cpus[0], g_cpus[0], rounds);
        other[r] = pingpong_ns(g_cpus[0], g_cpus[1], rounds);
    }
    double p = median(pair, reps), s = median(same, reps), o = median(other, reps);
    print_head();
    printf(",\"rounds\":%d,\"reps\":%d,\"eventfdPairNs\":%.1f,\"sameCpuRoundTripNs\":%.1f,\"otherCpuRoundTripNs\":%.1f"
           ",\"sameCpuWakeNs\":%.1f,\"otherCpuWakeNs\":%.1f", rounds, reps, p, s, o, s / 2 - p, o / 2 - p);
}
