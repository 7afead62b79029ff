/*
 * uffd_paging.c: the kernel baseline for postcopy-sim's benchmarks.
 *
 * What it measures
 *   The experiment of the KVM selftest demand_paging_test (tools/testing/selftests/kvm/),
 *   run on real userfaultfd but without KVM: T "vCPU" threads each touch every 4 KiB page
 *   of their own slice of an anonymous region registered with UFFDIO_REGISTER_MODE_MISSING.
 *   Every first touch is a missing-page fault; the faulting thread sleeps in the kernel
 *   until a handler thread, which read the struct uffd_msg from the uffd, fills the page
 *   with UFFDIO_COPY from a prepared source buffer (the "source host" of a postcopy
 *   migration) and thereby wakes it.
 *
 * How it maps to the selftest
 *   --queue single --readers R  one uffd for the whole region, R handler threads reading it
 *                               (the selftest's -a with -r R). R=1 is "uffd-1", R=T "uffd-n".
 *   --queue per-thread          one uffd per vCPU slice, one handler each ("uffd-pervcpu").
 *   --threads T                 the selftest's -v.
 *   --mib-per-thread M          the selftest's -b (default 64 MiB, as in the v7 cover letter).
 *   A vCPU access here is a plain user-space store, like memstress's default 100% writes,
 *   so the fault is a WRITE fault on anonymous memory (the KVM Userfault cover's "anon" rows).
 *   The simulator's own numbers should be read against these: they are what the real
 *   kernel path costs on this machine.
 *
 * Reported (one JSON object on stdout, nothing else):
 *   totalGuestSec       wall time from the start barrier until the last vCPU finished
 *   perVcpuPagesPerSec  mean over vCPUs of (pages of the slice / that vCPU's own time)
 *   pagesPerSec         all pages / totalGuestSec (the selftest's "overall demand paging rate")
 *   faultLatencyUs      p50/p99/max of (just before the store .. just after it), per fault
 *   copyNsMean          mean time inside the UFFDIO_COPY ioctl
 *   eexist              UFFDIO_COPYs that found the page already present (harmless, counted)
 *   verified            every page of the region equals the source page after the run
 *   firstTouchUsPerPage calibration: an ordinary first-touch fault on fresh anonymous memory,
 *                       no userfaultfd (the floor every uffd fault also pays)
 *   readerOnFaulterCpu  share of faults whose message was read on the CPU the vCPU faulted on:
 *                       the scheduler woke the reader there (or it was already running there)
 *   vcpuOnReaderCpu     share of faults after which the vCPU resumed on the CPU that read and
 *                       copied its page: the copy's wake was a wake on one CPU
 *                       Both come from sched_getcpu() stored in each thread's own array (no line
 *                       is shared for it while the run lasts) and compared after the run. Where a
 *                       wake lands is the scheduler's choice, made under the machine's load, so
 *                       the cross-check takes it as a measurement of the run, like its costs.
 *   vcpuCpuUsPerFault   CPU time of the vCPU threads (CLOCK_THREAD_CPUTIME_ID, from the start
 *                       barrier to their last page) per fault, and
 *   readerCpuUsPerFault of the handler threads (their whole life) per fault: what each side of a
 *                       fault costs on a CPU, without the time a woken thread waits to run (a
 *                       halted CPU's wake-up, a busy CPU's run queue), which no thread is charged
 * If userfaultfd is unavailable it prints {"skipped":true,"reason":"..."} and exits 0, so a
 * caller can skip the kernel baseline cleanly rather than fail the whole benchmark.
 *
 * --pin same|other|none pins vCPU i to allowed CPU i and handler j to the CPU of vCPU j
 * (same) or to the next allowed CPU (other). With one vCPU and one handler this is the
 * round-trip calibration: same core = a wake with a context switch on one CPU, other core =
 * a cross-CPU wake (IPI, and an idle core that must leave its halt).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define PAGE_BYTES 4096UL
#define MAX_THREADS 1024
#define MAX_MIB_PER_THREAD 65536L
#define CACHE_LINE 64
/* Well above any sane run, below the caller's 120 s spawn timeout, so that a stuck fault
 * (which would leave a vCPU asleep in the kernel forever) still produces a JSON line. */
#define DEFAULT_WATCHDOG_SEC 100
#define PATTERN_MAGIC 0x5a17c0de00000000ULL

enum queue_kind { QUEUE_SINGLE, QUEUE_PER_THREAD };
enum pin_kind { PIN_NONE, PIN_SAME, PIN_OTHER };

struct options {
    enum queue_kind queue;
    enum pin_kind pin;
    int threads;
    int readers; /* handler threads per uffd */
    long mib_per_thread;
    int watchdog_sec;
};

/* One per vCPU thread; aligned so that two vCPUs never write the same cache line. */
struct vcpu_args {
    int cpu; /* -1: not pinned */
    char *hva;
    size_t first_page; /* index of the slice's first page in the whole region */
    size_t pages;
    uint64_t *latency_ns; /* one entry per page of the slice */
    int16_t *fault_cpu;   /* per page: the CPU just before the touching store */
    int16_t *resume_cpu;  /* per page: the CPU just after it returned */
    uint64_t start_ns, end_ns;
    uint64_t cpu_ns; /* this thread's CPU time from the start barrier to its last page */
    int pin_failed;
} __attribute__((aligned(CACHE_LINE)));

/* One per handler thread; counters are private to the thread and read after join. */
struct handler_args {
    int uffd;
    int stop_fd;
    int cpu;
    uint64_t faults;          /* UFFD_EVENT_PAGEFAULT messages read */
    uint64_t copies;          /* UFFDIO_COPY ioctls issued */
    uint64_t copy_ns_total;   /* time spent inside them */
    uint64_t eexist;          /* copies that found the page present */
    uint64_t copy_errors;     /* copies that failed for any other reason */
    uint64_t empty_reads;     /* woke from poll but another reader took the message */
    uint64_t unexpected;      /* events other than PAGEFAULT */
    int16_t *read_cpu;        /* per page of the region: the CPU that read its message */
    int fatal_errno;          /* poll/read failed: the handler stopped early */
    uint64_t cpu_ns;          /* this thread's CPU time, its whole life */
    int pin_failed;
} __attribute__((aligned(CACHE_LINE)));

static char *g_source;       /* the "source host" copy of guest memory */
static char *g_guest;        /* the registered region the vCPUs touch */
static pthread_barrier_t g_start;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Content of 64-bit word w of page p: distinct per page and per word, so verification
 * catches both a wrong page and a partial copy. */
static inline uint64_t pattern_word(size_t page, size_t word) {
    return PATTERN_MAGIC ^ ((uint64_t)page << 12) ^ (uint64_t)word;
}

/* Every exit path prints exactly one JSON object. Skips exit 0 so callers skip, not fail. */
static void skip(const char *what, int err) {
    char reason[256];
    if (err)
        snprintf(reason, sizeof reason, "%s: %s", what, strerror(err));
    else
        snprintf(reason, sizeof reason, "%s", what);
    /* The reason is ours or strerror's: neither contains a quote or a backslash. */
    printf("{\"skipped\":true,\"reason\":\"%s\"}\n", reason);
    fflush(stdout);
    exit(0);
}

static void usage_error(const char *msg) {
    printf("{\"skipped\":true,\"reason\":\"bad arguments: %s\"}\n", msg);
    fprintf(stderr,
            "usage: uffd_paging [--queue single|per-thread] [--readers R] [--threads T]\n"
            "                   [--mib-per-thread M] [--pin same|other|none] [--watchdog-sec S]\n"
            "  --queue single       one uffd for all vCPUs, R handler threads (default, R=1)\n"
            "  --queue per-thread   one uffd and one handler per vCPU slice\n"
            "  --threads T          vCPU threads (default 1)\n"
            "  --mib-per-thread M   slice per vCPU in MiB of 4 KiB pages (default 64)\n"
            "  --pin                CPU placement of handlers relative to vCPUs (default none)\n");
    exit(2);
}

/* async-signal-safe: a stuck run still ends with one JSON line the caller can parse. */
static void on_watchdog(int sig) {
    (void)sig;
    static const char line[] =
        "{\"skipped\":true,\"reason\":\"watchdog: run did not finish (a fault was never resolved?)\"}\n";
    ssize_t ignored = write(STDOUT_FILENO, line, sizeof line - 1);
    (void)ignored;
    _exit(0);
}

static long parse_long(const char *s, long lo, long hi, const char *name) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        static char msg[128];
        snprintf(msg, sizeof msg, "%s must be an integer in [%ld, %ld]", name, lo, hi);
        usage_error(msg);
    }
    return v;
}

static struct options parse_options(int argc, char **argv) {
    struct options o = {QUEUE_SINGLE, PIN_NONE, 1, 1, 64, DEFAULT_WATCHDOG_SEC};
    int readers_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (i + 1 >= argc) usage_error("every flag takes a value");
        const char *val = argv[++i];
        if (!strcmp(flag, "--queue")) {
            if (!strcmp(val, "single")) o.queue = QUEUE_SINGLE;
            else if (!strcmp(val, "per-thread")) o.queue = QUEUE_PER_THREAD;
            else usage_error("--queue must be single or per-thread");
        } else if (!strcmp(flag, "--pin")) {
            if (!strcmp(val, "same")) o.pin = PIN_SAME;
            else if (!strcmp(val, "other")) o.pin = PIN_OTHER;
            else if (!strcmp(val, "none")) o.pin = PIN_NONE;
            else usage_error("--pin must be same, other or none");
        } else if (!strcmp(flag, "--threads")) {
            o.threads = (int)parse_long(val, 1, MAX_THREADS, "--threads");
        } else if (!strcmp(flag, "--readers")) {
            o.readers = (int)parse_long(val, 1, MAX_THREADS, "--readers");
            readers_given = 1;
        } else if (!strcmp(flag, "--mib-per-thread")) {
            o.mib_per_thread = parse_long(val, 1, MAX_MIB_PER_THREAD, "--mib-per-thread");
        } else if (!strcmp(flag, "--watchdog-sec")) {
            o.watchdog_sec = (int)parse_long(val, 1, 3600, "--watchdog-sec");
        } else {
            usage_error("unknown flag");
        }
    }
    /* per-thread means exactly one handler per uffd; silently taking R per uffd would make
     * "readers" mean two different things in the output. */
    if (o.queue == QUEUE_PER_THREAD && readers_given && o.readers != 1)
        usage_error("--readers applies to --queue single only");
    return o;
}

/* The syscall first (what QEMU and the selftests use); /dev/userfaultfd when the syscall is
 * refused (vm.unprivileged_userfaultfd=0 without CAP_SYS_PTRACE, or a seccomp filter);
 * last, UFFD_USER_MODE_ONLY, which unprivileged callers may use and which is enough here
 * because every fault we take comes from a user-space store. */
static int open_uffd(const char **source) {
#ifdef SYS_userfaultfd
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
        *source = "syscall";
        return fd;
    }
    int syscall_errno = errno;
    if (syscall_errno != EPERM) skip("userfaultfd syscall failed", syscall_errno);
#else
    int syscall_errno = ENOSYS;
#endif
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev >= 0) {
        int fd2 = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
        int dev_errno = errno;
        close(dev);
        if (fd2 >= 0) {
            *source = "/dev/userfaultfd";
            return fd2;
        }
        errno = dev_errno;
    }
#ifdef SYS_userfaultfd
    fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd >= 0) {
        *source = "syscall-user-mode-only";
        return fd;
    }
#endif
    skip("userfaultfd not permitted (syscall, /dev/userfaultfd and user-mode-only all failed)",
         syscall_errno);
    return -1;
}

static int new_uffd(const char **source) {
    int fd = open_uffd(source);
    struct uffdio_api api = {.api = UFFD_API, .features = 0};
    if (ioctl(fd, UFFDIO_API, &api) < 0) skip("UFFDIO_API failed", errno);
    return fd;
}

static void register_missing(int uffd, char *start, size_t len) {
    struct uffdio_register reg = {
        .range = {.start = (uint64_t)(uintptr_t)start, .len = len},
        .mode = UFFDIO_REGISTER_MODE_MISSING,
    };
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) skip("UFFDIO_REGISTER failed", errno);
    if (!(reg.ioctls & ((uint64_t)1 << _UFFDIO_COPY)))
        skip("UFFDIO_COPY not available on the registered range", 0);
}

static int pin_self(int cpu) {
    if (cpu < 0) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -1; /* 0 = calling thread */
}

/* Resolve one fault: install the source page at the faulting address, waking the vCPU
 * (default mode; no UFFDIO_COPY_MODE_DONTWAKE). */
static void resolve_fault(struct handler_args *h, const struct uffd_msg *msg) {
    uint64_t addr = msg->arg.pagefault.address & ~(uint64_t)(PAGE_BYTES - 1);
    uint64_t offset = addr - (uint64_t)(uintptr_t)g_guest;
    struct uffdio_copy copy = {
        .dst = addr,
        .src = (uint64_t)(uintptr_t)(g_source + offset),
        .len = PAGE_BYTES,
        .mode = 0,
    };
    uint64_t t0 = now_ns();
    int rc = ioctl(h->uffd, UFFDIO_COPY, &copy);
    int err = errno;
    h->copy_ns_total += now_ns() - t0;
    h->copies++;
    if (rc == 0) return;
    /* EEXIST: the page was already installed (a duplicate message for a page another reader
     * resolved, or a fault re-queued after a retry). The copy that installed it woke every
     * waiter on the range, and a thread that queues later re-checks the PTE before sleeping,
     * so nobody is left asleep: count it and move on. */
    if (err == EEXIST)
        h->eexist++;
    else
        h->copy_errors++;
}

static void handler_loop(struct handler_args *h);

static void *handler_main(void *arg) {
    struct handler_args *h = arg;
    if (pin_self(h->cpu) < 0) h->pin_failed = 1;
    handler_loop(h);
    h->cpu_ns = thread_cpu_ns();
    return NULL;
}

static void handler_loop(struct handler_args *h) {
    struct pollfd fds[2] = {
        {.fd = h->uffd, .events = POLLIN},
        {.fd = h->stop_fd, .events = POLLIN},
    };
    for (;;) {
        /* No timeout: the stop eventfd ends the loop, the watchdog ends a stuck process. */
        int n = poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            h->fatal_errno = errno;
            return;
        }
        /* Stop is raised only after every vCPU returned, i.e. after every fault resolved. */
        if (fds[1].revents & POLLIN) return;
        if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            h->fatal_errno = EIO;
            return;
        }
        if (!(fds[0].revents & POLLIN)) continue;

        /* One message per read, as the selftest's handler does: with several readers on one
         * uffd this is exactly where they contend. */
        struct uffd_msg msg;
        ssize_t got = read(h->uffd, &msg, sizeof msg);
        if (got < 0) {
            /* Non-blocking fd: another reader woken by the same poll got the message first. */
            if (errno == EAGAIN || errno == EINTR) {
                h->empty_reads++;
                continue;
            }
            h->fatal_errno = errno;
            return;
        }
        if (got != (ssize_t)sizeof msg || msg.event != UFFD_EVENT_PAGEFAULT) {
            h->unexpected++;
            continue;
        }
        h->faults++;
        /* A page's message is read once, by one reader (a rare duplicate after a retry overwrites it). */
        uint64_t page = ((msg.arg.pagefault.address & ~(uint64_t)(PAGE_BYTES - 1)) - (uint64_t)(uintptr_t)g_guest) / PAGE_BYTES;
        h->read_cpu[page] = (int16_t)sched_getcpu();
        resolve_fault(h, &msg);
    }
}

/* The guest: touch every page of the slice once, in order (memstress's sequential pass),
 * timing each access. Every access is a first touch, so every access is a fault. */
static void *vcpu_main(void *arg) {
    struct vcpu_args *v = arg;
    if (pin_self(v->cpu) < 0) v->pin_failed = 1;
    pthread_barrier_wait(&g_start);
    uint64_t cpu0 = thread_cpu_ns();
    v->start_ns = now_ns();
    for (size_t i = 0; i < v->pages; i++) {
        volatile uint64_t *word0 = (volatile uint64_t *)(v->hva + i * PAGE_BYTES);
        /* Store the value the source page holds there, so the store is a genuine write
         * fault yet leaves the page equal to the source for the verification pass. */
        uint64_t value = pattern_word(v->first_page + i, 0);
        v->fault_cpu[i] = (int16_t)sched_getcpu();
        uint64_t t0 = now_ns();
        *word0 = value;
        v->latency_ns[i] = now_ns() - t0;
        v->resume_cpu[i] = (int16_t)sched_getcpu();
    }
    v->end_ns = now_ns();
    v->cpu_ns = thread_cpu_ns() - cpu0;
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile (rank = ceil(pct/100 * n)) of a sorted array, in microseconds. */
static double percentile_us(const uint64_t *sorted, size_t n, unsigned pct) {
    size_t rank = (pct * n + 99) / 100;
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)sorted[rank - 1] / 1000.0;
}

/* The CPUs this process may run on, in order; pin indices are taken modulo this list so a
 * cpuset-restricted container still pins onto CPUs it owns. */
static int allowed_cpus(int *out, int max) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0) return 0;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set)) out[n++] = c;
    return n;
}

static void *map_anon(size_t bytes, const char *what) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) skip(what, errno);
    return p;
}

/* Calibration without userfaultfd: the cost of an ordinary first-touch fault on fresh
 * anonymous memory (allocate, zero, map), the "no userfault" row of the KVM Userfault cover
 * letter. Every uffd fault pays this plus the round trip to the handler, so it is the floor
 * under the numbers above; on virtualised hosts that shadow guest page tables it is large. */
static double first_touch_us_per_page(size_t bytes) {
    char *scratch = map_anon(bytes, "mmap of the calibration region failed");
    if (madvise(scratch, bytes, MADV_NOHUGEPAGE) < 0) skip("madvise(MADV_NOHUGEPAGE)", errno);
    uint64_t t0 = now_ns();
    for (size_t off = 0; off < bytes; off += PAGE_BYTES) *(volatile char *)(scratch + off) = 1;
    uint64_t elapsed = now_ns() - t0;
    munmap(scratch, bytes);
    return (double)elapsed / 1000.0 / (double)(bytes / PAGE_BYTES);
}

int main(int argc, char **argv) {
    struct options opt = parse_options(argc, argv);
    signal(SIGALRM, on_watchdog);
    alarm((unsigned)opt.watchdog_sec);

    const int nthreads = opt.threads;
    const size_t slice_bytes = (size_t)opt.mib_per_thread << 20;
    const size_t slice_pages = slice_bytes / PAGE_BYTES;
    const size_t region_bytes = slice_bytes * (size_t)nthreads;
    const size_t total_pages = slice_pages * (size_t)nthreads;
    const int nuffds = opt.queue == QUEUE_SINGLE ? 1 : nthreads;
    const int readers_per_uffd = opt.queue == QUEUE_SINGLE ? opt.readers : 1;
    const int nhandlers = nuffds * readers_per_uffd;

    /* CPU placement is decided up front so that an impossible request skips, not lies. */
    static int cpus[CPU_SETSIZE];
    int ncpus = allowed_cpus(cpus, CPU_SETSIZE);
    if (opt.pin != PIN_NONE && ncpus < 1) skip("sched_getaffinity failed", errno);
    if (opt.pin == PIN_OTHER && ncpus < 2) skip("--pin other needs at least 2 allowed CPUs", 0);

    /* Phase 1: uffds. Done first, so a machine without userfaultfd skips before allocating. */
    const char *uffd_source = "";
    int uffds[MAX_THREADS];
    for (int u = 0; u < nuffds; u++) uffds[u] = new_uffd(&uffd_source);

    /* Calibration before anything else competes for the CPUs (32 MiB at most: ~0.1 s). */
    size_t calibration_bytes = region_bytes < ((size_t)32 << 20) ? region_bytes : ((size_t)32 << 20);
    double first_touch_us = first_touch_us_per_page(calibration_bytes);

    /* Phase 2: the source copy (pre-faulted by filling it, so UFFDIO_COPY measures the copy
     * and not faults on its own source) and the untouched guest region. */
    g_source = map_anon(region_bytes, "mmap of the source buffer failed");
    for (size_t p = 0; p < total_pages; p++) {
        uint64_t *words = (uint64_t *)(g_source + p * PAGE_BYTES);
        for (size_t w = 0; w < PAGE_BYTES / sizeof(uint64_t); w++) words[w] = pattern_word(p, w);
    }
    g_guest = map_anon(region_bytes, "mmap of the guest region failed");
    /* 4 KiB faults only: the experiment is per 4 KiB page, as in the selftest's anon runs. */
    if (madvise(g_guest, region_bytes, MADV_NOHUGEPAGE) < 0) skip("madvise(MADV_NOHUGEPAGE)", errno);
    if (opt.queue == QUEUE_SINGLE)
        register_missing(uffds[0], g_guest, region_bytes);
    else
        for (int u = 0; u < nuffds; u++) register_missing(uffds[u], g_guest + u * slice_bytes, slice_bytes);

    /* Phase 3: handlers, stopped by one eventfd that every handler polls (never read, so it
     * stays readable for all of them once written). */
    int stop_fd = eventfd(0, EFD_CLOEXEC);
    if (stop_fd < 0) skip("eventfd failed", errno);
    struct handler_args *handlers = aligned_alloc(CACHE_LINE, sizeof *handlers * (size_t)nhandlers);
    struct vcpu_args *vcpus = aligned_alloc(CACHE_LINE, sizeof *vcpus * (size_t)nthreads);
    uint64_t *latency_ns = calloc(total_pages, sizeof *latency_ns);
    /* Three CPU arrays; -1 marks a page whose message no reader recorded. */
    int16_t *cpu_arrays = malloc(3 * total_pages * sizeof *cpu_arrays);
    pthread_t *handler_tids = calloc((size_t)nhandlers, sizeof *handler_tids);
    pthread_t *vcpu_tids = calloc((size_t)nthreads, sizeof *vcpu_tids);
    if (!handlers || !vcpus || !latency_ns || !cpu_arrays || !handler_tids || !vcpu_tids) skip("out of memory", 0);
    /* Touch the latency and CPU arrays now so their own first-touch faults stay out of the timed loop. */
    memset(latency_ns, 0xff, total_pages * sizeof *latency_ns);
    memset(cpu_arrays, 0xff, 3 * total_pages * sizeof *cpu_arrays);
    int16_t *read_cpu = cpu_arrays, *fault_cpu = cpu_arrays + total_pages, *resume_cpu = cpu_arrays + 2 * total_pages;

    for (int j = 0; j < nhandlers; j++) {
        memset(&handlers[j], 0, sizeof handlers[j]);
        handlers[j].uffd = uffds[j / readers_per_uffd];
        handlers[j].stop_fd = stop_fd;
        handlers[j].read_cpu = read_cpu;
        handlers[j].cpu = opt.pin == PIN_NONE ? -1
                        : opt.pin == PIN_SAME ? cpus[j % ncpus]
                                              : cpus[(j + 1) % ncpus];
        int err = pthread_create(&handler_tids[j], NULL, handler_main, &handlers[j]);
        if (err) skip("pthread_create (handler) failed", err);
    }

    /* Phase 4: vCPUs, released together by a barrier the main thread also waits on. */
    if (pthread_barrier_init(&g_start, NULL, (unsigned)nthreads + 1)) skip("pthread_barrier_init failed", 0);
    for (int i = 0; i < nthreads; i++) {
        memset(&vcpus[i], 0, sizeof vcpus[i]);
        vcpus[i].cpu = opt.pin == PIN_NONE ? -1 : cpus[i % ncpus];
        vcpus[i].hva = g_guest + (size_t)i * slice_bytes;
        vcpus[i].first_page = (size_t)i * slice_pages;
        vcpus[i].pages = slice_pages;
        vcpus[i].latency_ns = latency_ns + (size_t)i * slice_pages;
        vcpus[i].fault_cpu = fault_cpu + (size_t)i * slice_pages;
        vcpus[i].resume_cpu = resume_cpu + (size_t)i * slice_pages;
        int err = pthread_create(&vcpu_tids[i], NULL, vcpu_main, &vcpus[i]);
        if (err) skip("pthread_create (vCPU) failed", err);
    }
    pthread_barrier_wait(&g_start);
    for (int i = 0; i < nthreads; i++) pthread_join(vcpu_tids[i], NULL);

    /* Phase 5: stop and join the handlers, then unregister so that the verification pass
     * could never block on a missing page (it would read zeros and fail instead). */
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof one) != (ssize_t)sizeof one) skip("eventfd write failed", errno);
    for (int j = 0; j < nhandlers; j++) pthread_join(handler_tids[j], NULL);
    alarm(0);
    struct uffdio_range whole = {.start = (uint64_t)(uintptr_t)g_guest, .len = region_bytes};
    if (opt.queue == QUEUE_SINGLE) {
        ioctl(uffds[0], UFFDIO_UNREGISTER, &whole);
    } else {
        for (int u = 0; u < nuffds; u++) {
            struct uffdio_range r = {.start = whole.start + (uint64_t)u * slice_bytes, .len = slice_bytes};
            ioctl(uffds[u], UFFDIO_UNREGISTER, &r);
        }
    }

    /* Phase 6: verify and report. */
    int verified = memcmp(g_guest, g_source, region_bytes) == 0;

    uint64_t faults = 0, copies = 0, copy_ns = 0, eexist = 0, copy_errors = 0, empty = 0, unexpected = 0;
    uint64_t reader_cpu_ns = 0, vcpu_cpu_ns = 0;
    int pin_failed = 0, fatal_errno = 0;
    for (int j = 0; j < nhandlers; j++) {
        faults += handlers[j].faults;
        copies += handlers[j].copies;
        copy_ns += handlers[j].copy_ns_total;
        eexist += handlers[j].eexist;
        copy_errors += handlers[j].copy_errors;
        empty += handlers[j].empty_reads;
        unexpected += handlers[j].unexpected;
        pin_failed |= handlers[j].pin_failed;
        reader_cpu_ns += handlers[j].cpu_ns;
        if (handlers[j].fatal_errno) fatal_errno = handlers[j].fatal_errno;
    }
    uint64_t start_min = UINT64_MAX, end_max = 0;
    double per_vcpu_rate_sum = 0;
    for (int i = 0; i < nthreads; i++) {
        pin_failed |= vcpus[i].pin_failed;
        vcpu_cpu_ns += vcpus[i].cpu_ns;
        if (vcpus[i].start_ns < start_min) start_min = vcpus[i].start_ns;
        if (vcpus[i].end_ns > end_max) end_max = vcpus[i].end_ns;
        double sec = (double)(vcpus[i].end_ns - vcpus[i].start_ns) / 1e9;
        per_vcpu_rate_sum += (double)vcpus[i].pages / sec;
    }
    if (pin_failed) skip("sched_setaffinity failed for a pinned thread", 0);
    if (fatal_errno) skip("a handler's poll/read failed", fatal_errno);

    uint64_t reader_on_faulter = 0, vcpu_on_reader = 0, read_pages = 0;
    for (size_t p = 0; p < total_pages; p++) {
        if (read_cpu[p] < 0) continue; /* no message read for it (cannot happen with MISSING) */
        read_pages++;
        reader_on_faulter += read_cpu[p] == fault_cpu[p];
        vcpu_on_reader += read_cpu[p] == resume_cpu[p];
    }
    double share_denominator = read_pages ? (double)read_pages : 1.0;
    qsort(latency_ns, total_pages, sizeof *latency_ns, cmp_u64);
    double total_sec = (double)(end_max - start_min) / 1e9;
    static const char *queue_names[] = {"single", "per-thread"};
    static const char *pin_names[] = {"none", "same", "other"};
    printf("{\"queue\":\"%s\",\"threads\":%d,\"readers\":%d,\"readersPerUffd\":%d,\"uffds\":%d,"
           "\"mibPerThread\":%ld,\"pageBytes\":%lu,\"pages\":%zu,\"pin\":\"%s\",\"uffdSource\":\"%s\","
           "\"totalGuestSec\":%.6f,\"perVcpuPagesPerSec\":%.1f,\"pagesPerSec\":%.1f,"
           "\"faultLatencyUs\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
           "\"copyNsMean\":%.1f,\"faults\":%llu,\"copies\":%llu,\"eexist\":%llu,\"copyErrors\":%llu,"
           "\"emptyReads\":%llu,\"unexpectedEvents\":%llu,\"firstTouchUsPerPage\":%.3f,"
           "\"readerOnFaulterCpu\":%.4f,\"vcpuOnReaderCpu\":%.4f,\"vcpuCpuUsPerFault\":%.3f,\"readerCpuUsPerFault\":%.3f,"
           "\"verified\":%s}\n",
           queue_names[opt.queue], nthreads, nhandlers, readers_per_uffd, nuffds, opt.mib_per_thread,
           PAGE_BYTES, total_pages, pin_names[opt.pin], uffd_source, total_sec,
           per_vcpu_rate_sum / nthreads, (double)total_pages / total_sec,
           percentile_us(latency_ns, total_pages, 50), percentile_us(latency_ns, total_pages, 99),
           (double)latency_ns[total_pages - 1] / 1000.0, copies ? (double)copy_ns / (double)copies : 0.0,
           (unsigned long long)faults, (unsigned long long)copies, (unsigned long long)eexist,
           (unsigned long long)copy_errors, (unsigned long long)empty, (unsigned long long)unexpected,
           first_touch_us, (double)reader_on_faulter / share_denominator,
           (double)vcpu_on_reader / share_denominator, (double)vcpu_cpu_ns / 1000.0 / (double)total_pages,
           (double)reader_cpu_ns / 1000.0 / (double)total_pages, verified ? "true" : "false");
    fflush(stdout);
    return 0;
}
