/**
 * The source's queues: frames waiting for the wire (the bulk socket's send buffer, and the urgent
 * socket's), a FIFO of page, flags, destination channel and enqueue time in typed arrays, so queueing
 * a page allocates nothing once the queue has grown to its working size; and the page requests that
 * have reached it, in arrival order.
 */
export class FrameQueue {
  private page: Int32Array;
  private flags: Int32Array;
  private channel: Int32Array;
  private queuedUs: Float64Array;
  private head = 0;
  private tail = 0;
  /** Bytes of the frames queued (what the send buffer holds). */
  bytes = 0;
  constructor(capacity: number) {
    this.page = new Int32Array(capacity);
    this.flags = new Int32Array(capacity);
    this.channel = new Int32Array(capacity);
    this.queuedUs = new Float64Array(capacity);
  }
  get length(): number {
    return this.tail - this.head;
  }
  push(page: number, flags: number, channel: number, nowUs: number, bytes: number): void {
    if (this.tail === this.page.length) this.compact();
    const i = this.tail++;
    this.page[i] = page;
    this.flags[i] = flags;
    this.channel[i] = channel;
    this.queuedUs[i] = nowUs;
    this.bytes += bytes;
  }
  headPage(): number {
    return this.page[this.head]!;
  }
  headFlags(): number {
    return this.flags[this.head]!;
  }
  headChannel(): number {
    return this.channel[this.head]!;
  }
  headQueuedUs(): number {
    return this.queuedUs[this.head]!;
  }
  /** Drops every frame (a connection lost with what sat in its send buffer). */
  clear(): void {
    this.head = this.tail = 0;
    this.bytes = 0;
  }
  shift(bytes: number): void {
    this.head++;
    this.bytes -= bytes;
    if (this.head === this.tail) this.head = this.tail = 0;
  }
  private compact(): void {
    const n = this.tail - this.head;
    if (this.head === 0) {
      // full from the start: grow
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.page = grow(this.page);
      this.flags = grow(this.flags);
      this.channel = grow(this.channel);
      this.queuedUs = grow(this.queuedUs);
      return;
    }
    this.page.copyWithin(0, this.head, this.tail);
    this.flags.copyWithin(0, this.head, this.tail);
    this.channel.copyWithin(0, this.head, this.tail);
    this.queuedUs.copyWithin(0, this.head, this.tail);
    this.head = 0;
    this.tail = n;
  }
}

/**
 * The page requests that reached the source's end of the inbound link, in arrival order (the link is
 * FIFO, so arrival times only grow): page, faulting vCPU, the channel to answer on, arrival time.
 */
export class RequestQueue {
  private readonly page: number[] = [];
  private readonly vcpu: number[] = [];
  private readonly channel: number[] = [];
  private readonly arriveUs: number[] = [];
  private head = 0;

  push(page: number, vcpu: number, channel: number, arriveUs: number): void {
    this.page.push(page);
    this.vcpu.push(vcpu);
    this.channel.push(channel);
    this.arriveUs.push(arriveUs);
  }
  /** Arrival time of the oldest request not yet served, Infinity when none. */
  nextArrivalUs(): number {
    return this.head < this.page.length ? this.arriveUs[this.head]! : Infinity;
  }
  headPage(): number {
    return this.page[this.head]!;
  }
  headVcpu(): number {
    return this.vcpu[this.head]!;
  }
  headChannel(): number {
    return this.channel[this.head]!;
  }
  /** Done with the oldest request; the arrays restart once a long run of them is served. */
  shift(): void {
    this.head++;
    if (this.head === this.page.length && this.head > 1024) {
      this.page.length = this.vcpu.length = this.channel.length = this.arriveUs.length = 0;
      this.head = 0;
    }
  }
}
