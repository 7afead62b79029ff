/*
 * uffd_mech.c: each cost on the Linux userfaultfd fault path, measured on its own (no fitting
 * here: native/mech.ts fits base + slope where a cost grows with contenders).
 * native/MECHANISMS.md says which kernel code path each subcommand stands for.
 *
 *   uffd_mech wake K       eventfd write() waking k = 0,1,2,4..K threads asleep in poll()
 *   uffd_mech walk W       UFFDIO_WAKE on a page nobody waits on, w = 0,1,2,4..W threads asleep
 *                          in faults on other pages of the same uffd (the wake walk)
 *   uffd_mech emptyread K  poll(0) + non-blocking read() on an idle uffd, k = 1,2,4..K loopers
 *   uffd_mech copy T | zeropage T | continue T
 *                          UFFDIO_COPY / _ZEROPAGE / _CONTINUE with MODE_DONTWAKE, t = 1,2..T
 *   uffd_mech mmaplock K   mincore() on one page (an mm-wide mmap_read_lock), k = 1,2,4..K
 *   uffd_mech cacheline    atomic add on one shared cache line vs on private lines
 *   uffd_mech wakelat      a woken thread's latency, on the waker's CPU and on another one
 *   uffd_mech writefault   a write fault against a read fault on a MISSING-registered anonymous
 *                          page (SIGBUS mode): the page do_anonymous_page allocates and frees
 * --quick shortens every loop (tests). Each run prints exactly one JSON object with the host's
 * CPU model and count; a case that cannot run prints {"skipped":true,"reason":...}, exit 0.
 * Times are medians over repetitions; loops with k threads report CPU time per op, so threads
 * merely time-sharing a core (k > CPUs) do not count as contention.
 */
#include "mech_host.h"
#include <linux/userfaultfd.h>

#define CHUNK (2UL << 20) /* one per filler thread: its own PTE table, so no shared PT lock */
static int g_uffd;

static int new_uffd(uint64_t features) {
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == EPERM) /* vm.unprivileged_userfaultfd=0: user-mode-only suffices here */
        fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | 1 /* UFFD_USER_MODE_ONLY */);
    if (fd < 0) skip("userfaultfd unavailable", errno);
    struct uffdio_api api = {.api = UFFD_API, .features = features};
    if (ioctl(fd, UFFDIO_API, &api) < 0)
        skip(features ? "UFFDIO_API refused the features (no MINOR fault support on shmem?)" : "UFFDIO_API failed", errno);
    return fd;
}
static void uffd_register(int uffd, void *start, size_t len, uint64_t mode, int needed_ioctl) {
    struct uffdio_register r = {.range = {(uint64_t)(uintptr_t)start, len}, .mode = mode};
    if (ioctl(uffd, UFFDIO_REGISTER, &r) < 0) skip("UFFDIO_REGISTER failed", errno);
    if (!(r.ioctls & (1ULL << needed_ioctl))) skip("the registered range lacks the needed ioctl", 0);
}
/* An area of `len` bytes aligned to CHUNK, so each thread's slice has its own PTE table. */
static char *aligned_area(size_t len, void **base, size_t *base_len) {
    *base_len = len + CHUNK;
    *base = mmap(NULL, *base_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (*base == MAP_FAILED) skip("mmap failed", errno);
    return (char *)(((uintptr_t)*base + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1));
}

/* ---- walk: __wake_userfault's walk over waiters that do not match the range ---- */
struct faulter { pthread_t th; _Atomic pid_t tid; char *addr; } __attribute__((aligned(LINE)));
static void *faulter_main(void *a) {
    struct faulter *f = a;
    atomic_store(&f->tid, my_tid());
    *(volatile char *)f->addr = 1; /* sleeps in handle_userfault until the final ZEROPAGE */
    return NULL;
}
static void bench_walk(int wmax) {
    int ws[16], nw = sweep(1, wmax, ws), batches = g_quick ? 3 : 9, per = g_quick ? 300 : 3000, nf = 0;
    double ns[16], s[16];
    static struct faulter f[MAX_K];
    int uffd = new_uffd(0);
    size_t len = (size_t)(wmax + 1) * PAGE;
    char *region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) skip("mmap failed", errno);
    madvise(region, len, MADV_NOHUGEPAGE);
    uffd_register(uffd, region, len, UFFDIO_REGISTER_MODE_MISSING, _UFFDIO_WAKE);
    struct uffdio_range idle = {(uint64_t)(uintptr_t)region, PAGE}; /* page 0: nobody faults there */
    pin(g_ncpus > 1 ? g_cpus[0] : -1);
    for (int i = 0; i < nw; i++) {
        for (; nf < ws[i]; nf++) {
            f[nf].addr = region + (size_t)(nf + 1) * PAGE;
            atomic_store(&f[nf].tid, 0);
            start_thread(&f[nf].th, faulter_main, &f[nf]);
            while (atomic_load(&f[nf].tid) == 0) sched_yield();
            wait_asleep(atomic_load(&f[nf].tid));
            /* Read the message, as a handler would: the waiter moves to fault_wqh, where the
             * steady state keeps the faults read but not yet resolved. */
            struct uffd_msg m;
            uint64_t deadline = now_ns() + 2000000000ULL;
            while (read(uffd, &m, sizeof m) != sizeof m)
                if (errno != EAGAIN || now_ns() > deadline) skip("no fault message from a sleeping faulter", errno);
        }
        for (int b = 0; b < batches; b++) {
            uint64_t t0 = now_ns();
            for (int j = 0; j < per; j++)
                if (ioctl(uffd, UFFDIO_WAKE, &idle) < 0) skip("UFFDIO_WAKE failed", errno);
            s[b] = (double)(now_ns() - t0) / per;
        }
        ns[i] = median(s, batches);
    }
    /* Resolve every sleeping fault at once (ZEROPAGE wakes the range), then tidy up. */
    struct uffdio_zeropage z = {.range = {(uint64_t)(uintptr_t)region + PAGE, (uint64_t)nf * PAGE}};
    if (nf > 0 && ioctl(uffd, UFFDIO_ZEROPAGE, &z) < 0) skip("UFFDIO_ZEROPAGE (release) failed", errno);
    for (int j = 0; j < nf; j++) pthread_join(f[j].th, NULL);
    struct uffdio_range all = {(uint64_t)(uintptr_t)region, len};
    ioctl(uffd, UFFDIO_UNREGISTER, &all);
    munmap(region, len);
    close(uffd);
    print_head();
    printf(",\"ioctlsPerBatch\":%d,\"batches\":%d,\"waitersOn\":\"fault_wqh (read, not resolved)\"", per, batches);
    print_points("wakeIoctlNs", ws, ns, nw);
}

/* ---- emptyread: the handler loop on an idle uffd (userfaultfd_poll, userfaultfd_ctx_read) ---- */
static int op_poll(void) { struct pollfd p = {.fd = g_uffd, .events = POLLIN}; return poll(&p, 1, 0) != 0; }
static int op_read(void) { struct uffd_msg m; return !(read(g_uffd, &m, sizeof m) < 0 && errno == EAGAIN); }
static int op_poll_read(void) { return op_poll() | op_read(); }

static void bench_emptyread(int kmax) {
    int ks[16], nk = sweep(0, kmax, ks);
    double ns[16];
    g_uffd = new_uffd(0);
    for (int i = 0; i < nk; i++) { g_op = op_poll_read; ns[i] = loop_cost(ks[i]); }
    g_op = op_poll;
    double poll_ns = loop_cost(1);
    g_op = op_read;
    double read_ns = loop_cost(1);
    close(g_uffd);
    print_head();
    printf(",\"pollOnlyNs\":%.1f,\"emptyReadOnlyNs\":%.1f", poll_ns, read_ns);
    print_points("pollReadLoopCpuNs", ks, ns, nk);
}
/* ---- fill: UFFDIO_COPY / ZEROPAGE / CONTINUE with DONTWAKE, t threads at once ---- */
enum fill_op { OP_COPY, OP_ZEROPAGE, OP_CONTINUE };
static enum fill_op g_fop;
struct filler { pthread_t th; char *dst, *src; int cpu, err; double ns[32]; } __attribute__((aligned(LINE)));
static int g_pages, g_reps;
static int fill_page(char *dst, char *src) {
    uint64_t d = (uint64_t)(uintptr_t)dst;
    if (g_fop == OP_COPY) {
        struct uffdio_copy c = {.dst = d, .src = (uint64_t)(uintptr_t)src, .len = PAGE, .mode = UFFDIO_COPY_MODE_DONTWAKE};
        return ioctl(g_uffd, UFFDIO_COPY, &c);
    }
    if (g_fop == OP_ZEROPAGE) {
        struct uffdio_zeropage z = {.range = {d, PAGE}, .mode = UFFDIO_ZEROPAGE_MODE_DONTWAKE};
        return ioctl(g_uffd, UFFDIO_ZEROPAGE, &z);
    }
    struct uffdio_continue c = {.range = {d, PAGE}, .mode = UFFDIO_CONTINUE_MODE_DONTWAKE};
    return ioctl(g_uffd, UFFDIO_CONTINUE, &c);
}
static void *filler_main(void *a) {
    struct filler *f = a;
    pin(f->cpu);
    for (int r = 0; r < g_reps; r++) {
        pthread_barrier_wait(&g_bar); /* all t threads fill at the same time */
        uint64_t t0 = now_ns();
        for (int p = 0; p < g_pages && !f->err; p++)
            if (fill_page(f->dst + (size_t)p * PAGE, f->src) < 0) f->err = errno;
        f->ns[r] = (double)(now_ns() - t0) / g_pages;
        pthread_barrier_wait(&g_bar);
        /* Untimed reset: drops the PTEs (anon pages freed; shmem pages stay in the page cache). */
        if (madvise(f->dst, CHUNK, MADV_DONTNEED) < 0 && !f->err) f->err = errno;
    }
    return NULL;
}
static void bench_fill(enum fill_op op, int tmax) {
    int ts[8], nt = sweep(0, tmax, ts);
    double ns[8];
    static struct filler f[MAX_K];
    g_fop = op;
    g_pages = g_quick ? 64 : (int)(CHUNK / PAGE);
    g_reps = g_quick ? 3 : 15;
    static const int needed[] = {_UFFDIO_COPY, _UFFDIO_ZEROPAGE, _UFFDIO_CONTINUE};
    for (int i = 0; i < nt; i++) {
        int t = ts[i], memfd = -1;
        size_t len = (size_t)t * CHUNK, base_len;
        void *base;
        char *dst = aligned_area(len, &base, &base_len), *cache = NULL;
        if (op == OP_CONTINUE) {
            /* MINOR: the page is already in shmem's page cache (filled through a second,
             * unregistered mapping); CONTINUE only maps it into the registered one. */
            g_uffd = new_uffd(UFFD_FEATURE_MINOR_SHMEM);
            if ((memfd = memfd_create("uffd_mech", MFD_CLOEXEC)) < 0) skip("memfd_create failed", errno);
            if (ftruncate(memfd, (off_t)len) < 0) skip("ftruncate failed", errno);
            if (mmap(dst, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd, 0) == MAP_FAILED) skip("mmap failed", errno);
            cache = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
            if (cache == MAP_FAILED) skip("mmap failed", errno);
            for (size_t off = 0; off < len; off += PAGE) cache[off] = 1;
        } else {
            g_uffd = new_uffd(0);
            if (mmap(dst, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) skip("mmap failed", errno);
        }
        madvise(dst, len, MADV_NOHUGEPAGE); /* 4 KiB pages, as the published runs */
        uffd_register(g_uffd, dst, len, op == OP_CONTINUE ? UFFDIO_REGISTER_MODE_MINOR : UFFDIO_REGISTER_MODE_MISSING, needed[op]);
        char *src = mmap(NULL, (size_t)t * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (src == MAP_FAILED) skip("mmap failed", errno);
        memset(src, 0x5a, (size_t)t * PAGE); /* a resident, cache-warm source page per thread */
        pthread_barrier_init(&g_bar, NULL, (unsigned)t);
        for (int j = 0; j < t; j++) {
            f[j] = (struct filler){.dst = dst + (size_t)j * CHUNK, .src = src + (size_t)j * PAGE, .cpu = spread_cpu(j)};
            start_thread(&f[j].th, filler_main, &f[j]);
        }
        double sum = 0;
        int err = 0;
        for (int j = 0; j < t; j++) { pthread_join(f[j].th, NULL); err = err ? err : f[j].err; sum += median(f[j].ns, g_reps); }
        pthread_barrier_destroy(&g_bar);
        if (err) skip(op == OP_COPY ? "UFFDIO_COPY failed" : op == OP_ZEROPAGE ? "UFFDIO_ZEROPAGE failed" : "UFFDIO_CONTINUE failed", err);
        ns[i] = sum / t; /* mean over threads of each one's median ns per page */
        struct uffdio_range all = {(uint64_t)(uintptr_t)dst, len};
        ioctl(g_uffd, UFFDIO_UNREGISTER, &all);
        close(g_uffd);
        munmap(src, (size_t)t * PAGE);
        if (cache) munmap(cache, len);
        if (memfd >= 0) close(memfd);
        munmap(base, base_len);
    }
    print_head();
    printf(",\"pagesPerRep\":%d,\"reps\":%d,\"mode\":\"DONTWAKE\"", g_pages, g_reps);
    print_points("nsPerPage", ts, ns, nt);
}

/* ---- writefault: what a write fault costs before handle_userfault on anonymous memory ----
 * do_anonymous_page (mm/memory.c) sends a read fault on a MISSING-registered range to
 * handle_userfault from its zero-page branch, before anything is allocated; a write fault first
 * allocates, zeroes and charges a page, takes the PTE lock, and only then sees the registration and
 * frees the page again. Under UFFD_FEATURE_SIGBUS handle_userfault returns at once (SIGBUS), and
 * the page stays unmapped, so one page faults over and over: the write fault's time minus the read
 * fault's is that allocate-zero-free, with the trap, the walk and the signal the same in both. */
static sigjmp_buf g_wf_jmp;
static void on_sigbus(int sig) { (void)sig; siglongjmp(g_wf_jmp, 1); }
static double fault_loop(volatile char *p, int write, int per) {
    uint64_t t0 = now_ns();
    for (volatile int i = 0; i < per; i++) {
        if (sigsetjmp(g_wf_jmp, 1) == 0) {
            if (write) *p = 1;
            else (void)*p;
            skip("the access did not fault: no SIGBUS from the registered range", 0);
        }
    }
    return (double)(now_ns() - t0) / per;
}
static void bench_writefault(void) {
    int batches = g_quick ? 3 : 9, per = g_quick ? 2000 : 20000;
    int uffd = new_uffd(UFFD_FEATURE_SIGBUS);
    char *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) skip("mmap failed", errno);
    uffd_register(uffd, page, PAGE, UFFDIO_REGISTER_MODE_MISSING, _UFFDIO_COPY);
    struct sigaction sa = {.sa_handler = on_sigbus};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) < 0) skip("sigaction failed", errno);
    pin(g_ncpus > 0 ? g_cpus[0] : -1);
    double r[32], w[32], d[32];
    fault_loop(page, 0, per / 10); /* warm the path */
    fault_loop(page, 1, per / 10);
    for (int b = 0; b < batches; b++) { /* interleaved, so drift on the host moves both */
        r[b] = fault_loop(page, 0, per);
        w[b] = fault_loop(page, 1, per);
        d[b] = w[b] - r[b];
    }
    double readNs = median(r, batches), writeNs = median(w, batches), extraNs = median(d, batches);
    signal(SIGBUS, SIG_DFL);
    munmap(page, PAGE);
    close(uffd);
    print_head();
    printf(",\"faultsPerBatch\":%d,\"batches\":%d,\"readFaultNs\":%.1f,\"writeFaultNs\":%.1f,\"writeExtraNs\":%.1f", per, batches, readNs, writeNs, extraNs);
}

int main(int argc, char **argv) {
    static const char *names[] = {"wake", "walk", "emptyread", "copy", "zeropage", "continue", "mmaplock", "cacheline", "wakelat", "writefault"};
    static const int defaults[] = {16, 16, 4, 2, 2, 2, 16, 0, 0, 0};
    int which = -1, n = -1;
    for (int i = 0; argc > 1 && i < 10; i++) if (!strcmp(argv[1], names[i])) { which = i; g_bench = names[i]; }
    for (int i = 2; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--quick")) { g_quick = 1; continue; }
        long v = strtol(argv[i], &end, 10);
        if (*end || end == argv[i] || v < 1 || v > MAX_K || (which >= 3 && which <= 5 && v > 8)) which = -2;
        else n = (int)v;
    }
    if (which < 0) {
        fprintf(stderr, "usage: uffd_mech wake|walk|emptyread|mmaplock [1..64] | copy|zeropage|continue [1..8] | cacheline | wakelat | writefault  [--quick]\n");
        printf("{\"bench\":\"%s\",\"skipped\":true,\"reason\":\"bad arguments\"}\n", g_bench);
        return 2;
    }
    snprintf(g_alarm_line, sizeof g_alarm_line, "{\"bench\":\"%s\",\"skipped\":true,\"reason\":\"watchdog: no result in %d s\"}\n",
             g_bench, WATCHDOG_SEC);
    signal(SIGALRM, on_alarm);
    alarm(WATCHDOG_SEC);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; c++) if (CPU_ISSET(c, &set)) g_cpus[g_ncpus++] = c;
    if (n < 0) n = defaults[which];
    switch (which) {
    case 0: bench_wake(n); break;
    case 1: bench_walk(n); break;
    case 2: bench_emptyread(n); break;
    case 3: case 4: case 5: bench_fill(which == 3 ? OP_COPY : which == 4 ? OP_ZEROPAGE : OP_CONTINUE, n); break;
    case 6: bench_mmaplock(n); break;
    case 8: bench_wakelat(); break;
    case 9: bench_writefault(); break;
    default: bench_cacheline();
    }
    printf("}\n");
    fflush(stdout);
    return 0;
}
