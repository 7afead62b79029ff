// postcopy-sim live demo: the record decoder. One fault, three views side by side: the hardware's
// raw syndrome (ESR_EL2 / FAR_EL2 / HPFAR_EL2 on arm64, the EPT violation's exit qualification and
// addresses on x86), the record KVM hands the VMM (exit_reason 39 + kvm_run.memory_fault), and what a
// userfaultfd handler would read instead (a uffd_msg, or nothing). The view this run really uses is
// highlighted. Plain browser JavaScript; demo.js calls window.PcsRecord.render.
'use strict';
(() => {
  const hex = (n, width = 0) => `0x${BigInt(Math.round(n)).toString(16).padStart(width, '0')}`;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const fmtInt = (x) => Math.round(x).toLocaleString('en-US');

  function bitChips(flags, table) {
    return `<div class="bits">${table.map((b) => `<span class="bit${flags & (1 << b.bit) ? ' on' : ''}" title="${esc(b.note)}">bit ${b.bit} ${esc(b.name)}</span>`).join('')}</div>`;
  }
  /** Little-endian bytes of an unsigned value (< 2^53), `n` bytes. */
  function le(value, n) {
    let v = BigInt(value);
    const out = [];
    for (let i = 0; i < n; i++) { out.push(Number(v & 0xffn).toString(16).padStart(2, '0')); v >>= 8n; }
    return out.join(' ');
  }

  /** Column 1: the hardware's report, register by register, field by field. */
  function hardwareColumn(a) {
    if (!a) return '<p class="hint">no hardware view for this record</p>';
    const rows = a.hardware.registers.map((r) => {
      const head = `<tr class="reg"><td><code>${esc(r.name)}</code></td><td class="val">${hex(r.value)}</td><td>${esc(r.note)}</td></tr>`;
      const fields = r.fields.map((f) => `<tr class="field${f.value ? ' set' : ''}"><td><code>[${esc(f.bits)}] ${esc(f.name)}</code></td><td class="val">${f.value > 9 ? hex(f.value) : f.value}</td><td>${esc(f.meaning)}</td></tr>`).join('');
      return head + fields;
    }).join('');
    return `<h3>${esc(a.arch)}: ${esc(a.hardware.title)}</h3><p class="kind">${esc(a.kindLabel)}${a.kind === 'walk' ? ` (level ${a.level})` : ''}</p>
<table><tr><th>register</th><th>value</th><th>meaning</th></tr>${rows}</table>`;
  }

  /** Column 2: KVM_RUN's answer, the memory_fault (and the syndrome when this record carries it). */
  function kvmColumn(m, a, T) {
    const names = m.flagNames.length ? m.flagNames.join(' | ') : 'none: READ = WRITE = EXEC = 0';
    const neutral = a && a.kvm.flags !== a.kvm.neutralFlags ? `<p class="note">The arch-neutral record would say ${esc(a.kvm.neutralNames.join(' | '))}.</p>` : '';
    return `<h3>KVM_EXIT_MEMORY_FAULT${a ? ` <small>${a.kvm.carriesSyndrome ? 'record with the syndrome' : 'arch-neutral record'}</small>` : ''}</h3><table>
<tr><th>field</th><th>value</th><th>meaning</th></tr>
<tr><td><code>ioctl(KVM_RUN)</code></td><td class="val">-1, errno EFAULT</td><td>the only exit that returns -1: KVM needs userspace to resolve a memory fault</td></tr>
<tr><td><code>run-&gt;exit_reason</code></td><td class="val">${m.exitReason}</td><td>KVM_EXIT_MEMORY_FAULT</td></tr>
<tr><td><code>memory_fault.flags</code></td><td class="val">${hex(m.flags)}</td><td>${esc(names)}</td></tr>
<tr><td><code>memory_fault.gpa</code></td><td class="val">${hex(m.gpa, 9)}</td><td>${a && a.kind === 'walk' ? 'the page-table page, not the data page' : 'guest-physical address of the page'}</td></tr>
<tr><td><code>memory_fault.size</code></td><td class="val">${hex(m.size)} (${fmtInt(m.size)})</td><td>the fault covers [gpa, gpa + size): one page</td></tr>
</table>${bitChips(m.flags, T.memoryFaultFlags)}${neutral}
<div class="hex">kvm_run.memory_fault, ${T.MEMORY_FAULT_BYTES} bytes (little-endian):
<span class="f1">${le(m.flags, 8)}</span>  <span class="f2">${le(m.gpa, 8)}</span>  <span class="f3">${le(m.size, 8)}</span>
<span class="f1">flags</span>                    <span class="f2">gpa</span>                      <span class="f3">size</span></div>
<p class="note">${a ? esc(a.resolution) : 'The VMM asks the source for the page, installs it, and re-enters KVM_RUN'}. The vCPU never slept in the kernel: no UFFDIO_WAKE.</p>`;
  }

  /** Column 3: the uffd_msg a handler would read(), or why it reads nothing. */
  function uffdColumn(u, a, T) {
    if (!u) return `<h3>userfaultfd</h3><p class="nothing">A handler reads nothing: ${esc(a ? a.uffd.lost : 'not a uffd event')}.</p>`;
    const names = u.flagNames.length ? u.flagNames.join(' | ') : 'none (a read of a missing page)';
    const lost = a && a.uffd.lost !== 'nothing lost' ? `<p class="lost">Lost on the way: ${esc(a.uffd.lost)}.</p>` : '';
    return `<h3>userfaultfd: UFFD_EVENT_PAGEFAULT</h3><table>
<tr><th>field</th><th>value</th><th>meaning</th></tr>
<tr><td><code>read(uffd, &amp;msg, ${T.UFFD_MSG_BYTES})</code></td><td class="val">${T.UFFD_MSG_BYTES}</td><td>one <code>struct uffd_msg</code></td></tr>
<tr><td><code>msg.event</code></td><td class="val">${hex(u.event)}</td><td>UFFD_EVENT_PAGEFAULT</td></tr>
<tr><td><code>msg.arg.pagefault.flags</code></td><td class="val">${hex(u.flags)}</td><td>${esc(names)}</td></tr>
<tr><td><code>msg.arg.pagefault.address</code></td><td class="val">${hex(u.address, 9)}</td><td>faulting address (here the gpa; a VMM sees its host virtual address)</td></tr>
<tr><td><code>msg.arg.pagefault.feat.ptid</code></td><td class="val">${u.ptid}</td><td>the faulting thread: vCPU ${u.ptid}</td></tr>
</table>${bitChips(u.flags, T.uffdFlags)}${lost}
<div class="hex">struct uffd_msg, ${T.UFFD_MSG_BYTES} bytes (packed, little-endian):
<span class="f0">${le(u.event, 1)}</span> <span class="pad">00 00 00 00 00 00 00</span>  <span class="f1">${le(u.flags, 8)}</span>  <span class="f2">${le(u.address, 8)}</span>  <span class="f3">${le(u.ptid, 4)}</span> <span class="pad">00 00 00 00</span>
<span class="f0">event</span>  <span class="pad">reserved</span>              <span class="f1">flags</span>                    <span class="f2">address</span>                  <span class="f3">ptid</span></div>
<p class="note">The vCPU thread sleeps on the uffd's wait queue until a handler's UFFDIO_COPY installs the page and wakes it.</p>`;
  }

  /** Renders fault event `f` (src/events.ts FaultEvent) with the uapi tables `T`. */
  function render(f, T, start, count) {
    const r = f.record, a = r.arch;
    const virtual = start && start.engine === 'virtual';
    // What this run handed over, and the other view rebuilt from the same fault.
    const kvm = r.kind === 'memory_fault' ? r : a ? { exitReason: a.kvm.exitReason, flags: a.kvm.flags, flagNames: a.kvm.flagNames, gpa: a.kvm.gpa, size: a.kvm.size } : null;
    const uffd = r.kind === 'uffd_msg' ? r : a && a.uffd.sees ? { event: a.uffd.event, flags: a.uffd.flags, flagNames: a.uffd.flagNames, address: a.uffd.address, ptid: f.vcpu } : null;
    const col = (cls, active, html) => `<div class="col ${cls}${active ? ' active' : ''}">${active ? '<span class="used">this run</span>' : ''}${html}</div>`;
    document.getElementById('record-head').textContent = `vCPU ${f.vcpu} · page ${fmtInt(f.page)} · t = ${f.tMs.toFixed(virtual ? 3 : 1)} ms${virtual ? ' (virtual)' : ''}`;
    document.getElementById('record-body').innerHTML = `<div class="cols">${col('col-hw', false, hardwareColumn(a))}` +
      `${col('col-kvm', r.kind === 'memory_fault', kvm ? kvmColumn(kvm, a, T) : '')}${col('col-uffd', r.kind === 'uffd_msg', uffdColumn(uffd, a, T))}</div>`;
    const rec = document.getElementById('record');
    rec.dataset.kind = r.kind;
    rec.dataset.archKind = a ? a.kind : '';
    rec.dataset.count = String(count);
  }

  window.PcsRecord = { render };
})();
