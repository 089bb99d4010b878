/*
 * ferry lab guest: a tiny multiboot program that dirties RAM at a chosen rate and prints a
 * heartbeat with a stall meter on COM1. See README.md for the command line, the line format
 * and the exact definition of the stall meter.
 *
 * 32-bit protected mode, no paging, no libgcc: 64-bit division only through udiv64_32().
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;

#define COM1 0x3f8
#define HEARTBEAT_MS 250u
#define WINDOWS_KEPT 4 /* felt_us covers the last 4 windows (about 4 s) */
#define MAX_BATCH 4096u /* pages touched per loop iteration at most */
#define MAX_RATE_BATCH 256u /* pages per iteration with rate=max (1 MiB) */
#define WSS_START (2u << 20) /* the working set starts at 2 MiB */
#define TOP_MARGIN (1u << 20) /* and stays 1 MiB below the end of RAM */
#define MIB_PAGES 256u

/* ---------------------------------------------------------------- port I/O, TSC */

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) {
  u8 v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline u16 inw(u16 port) {
  u16 v;
  __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
/* 32-bit PIO to the IDE data port: half the port accesses of outsw, each one a trip through
 * QEMU's I/O dispatch under TCG. */
static inline void outsl(u16 port, const void *buf, u32 dwords) {
  __asm__ volatile("rep outsl" : "+S"(buf), "+c"(dwords) : "d"(port) : "memory");
}
static inline u64 rdtsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((u64)hi << 32) | lo;
}
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
/* sti takes effect after the next instruction, so "sti; hlt" cannot miss a wake-up. */
static inline void sti_hlt_cli(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline void sti_nop_cli(void) { __asm__ volatile("sti; nop; cli" ::: "memory"); }

/* n / d for a 32-bit divisor, with two divl (no libgcc). */
static u64 udiv64_32(u64 n, u32 d, u32 *rem) {
  u32 hi = (u32)(n >> 32), lo = (u32)n, qhi, qlo, r;
  qhi = hi / d;
  r = hi % d;
  __asm__("divl %4" : "=a"(qlo), "=d"(r) : "0"(lo), "1"(r), "rm"(d));
  if (rem) *rem = r;
  return ((u64)qhi << 32) | qlo;
}

/* ---------------------------------------------------------------- serial output */

static void serial_init(void) {
  outb(COM1 + 1, 0x00); /* no interrupts */
  outb(COM1 + 3, 0x80); /* DLAB */
  outb(COM1 + 0, 0x01); /* 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03); /* 8N1 */
  outb(COM1 + 2, 0xC7); /* FIFO on, cleared */
  outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void serial_putc(char c) {
  u32 spins = 0;
  while (!(inb(COM1 + 5) & 0x20) && ++spins < 100000) {
  }
  outb(COM1, (u8)c);
}

/* Lines are built in a buffer, then a checksum is appended: a line torn by a migration
 * switchover (prefix in one host's log, suffix in another's) is then recognisable. */
static char line[256];
static u32 line_len;

static void l_reset(void) { line_len = 0; }
static void l_char(char c) {
  if (line_len < sizeof(line) - 1) line[line_len++] = c;
}
static void l_str(const char *s) {
  while (*s) l_char(*s++);
}
static void l_u64(u64 v) {
  char tmp[24];
  int n = 0;
  do {
    u32 r;
    v = udiv64_32(v, 10, &r);
    tmp[n++] = (char)('0' + r);
  } while (v);
  while (n) l_char(tmp[--n]);
}
static void l_i64(i64 v) {
  if (v < 0) {
    l_char('-');
    l_u64((u64)(-v));
  } else {
    l_u64((u64)v);
  }
}
static void l_hex32(u32 v) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 28; i >= 0; i -= 4) l_char(hex[(v >> i) & 15]);
}
static void l_field_u(const char *k, u64 v) {
  l_char(' ');
  l_str(k);
  l_char('=');
  l_u64(v);
}
static void l_field_i(const char *k, i64 v) {
  l_char(' ');
  l_str(k);
  l_char('=');
  l_i64(v);
}
/* FNV-1a 32 over the line so far. */
static u32 fnv1a(const char *s, u32 n) {
  u32 h = 2166136261u;
  for (u32 i = 0; i < n; i++) {
    h ^= (u8)s[i];
    h *= 16777619u;
  }
  return h;
}
static void l_emit(void) {
  u32 ck = fnv1a(line, line_len);
  l_str(" ck=");
  l_hex32(ck);
  for (u32 i = 0; i < line_len; i++) serial_putc(line[i]);
  serial_putc('\n');
  l_reset();
}

/* ---------------------------------------------------------------- interrupts */

struct idt_entry {
  u16 off_lo, sel;
  u8 zero, type;
  u16 off_hi;
} __attribute__((packed));
static struct idt_entry idt[256];
static struct {
  u16 limit;
  u32 base;
} __attribute__((packed)) idt_desc;

extern void irq0_stub(void), irq8_stub(void), irq_master_stub(void), irq_slave_stub(void);
extern void (*exc_stub_table[32])(void);

static void idt_set(int v, void (*fn)(void)) {
  u32 a = (u32)fn;
  idt[v].off_lo = (u16)a;
  idt[v].sel = 0x08;
  idt[v].zero = 0;
  idt[v].type = 0x8E; /* present, ring 0, 32-bit interrupt gate */
  idt[v].off_hi = (u16)(a >> 16);
}

static void pic_remap(void) {
  outb(0x20, 0x11);
  outb(0xA0, 0x11);
  outb(0x21, 0x20); /* master: vectors 0x20..0x27 */
  outb(0xA1, 0x28); /* slave: 0x28..0x2f */
  outb(0x21, 0x04);
  outb(0xA1, 0x02);
  outb(0x21, 0x01);
  outb(0xA1, 0x01);
  outb(0x21, 0xFA); /* unmask IRQ0 (PIT) and IRQ2 (cascade) */
  outb(0xA1, 0xFE); /* unmask IRQ8 (RTC) */
}

static void idt_init(void) {
  for (int v = 0; v < 32; v++) idt_set(v, exc_stub_table[v]);
  for (int v = 0x20; v < 0x28; v++) idt_set(v, irq_master_stub);
  for (int v = 0x28; v < 0x30; v++) idt_set(v, irq_slave_stub);
  idt_set(0x20, irq0_stub);
  idt_set(0x28, irq8_stub);
  idt_desc.limit = sizeof(idt) - 1;
  idt_desc.base = (u32)idt;
  __asm__ volatile("lidt %0" : : "m"(idt_desc));
}

volatile u32 pit_ticks; /* incremented by irq0_stub */

static void pit_init(u32 hz) {
  u32 div = 1193182u / hz;
  if (div < 1) div = 1;
  if (div > 65535) div = 65535;
  outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 (rate generator) */
  outb(0x40, (u8)div);
  outb(0x40, (u8)(div >> 8));
}

/* ---------------------------------------------------------------- CMOS RTC */

static u8 cmos_read(u8 reg) {
  outb(0x70, reg);
  return inb(0x71);
}
static void cmos_write(u8 reg, u8 v) {
  outb(0x70, reg);
  outb(0x71, v);
}
static u8 rtc_reg_b;
static u32 bcd(u8 v) { return (rtc_reg_b & 0x04) ? v : (u32)((v >> 4) * 10 + (v & 15)); }

/* Seconds of the day from the RTC; re-read if the seconds changed underneath. */
static u32 rtc_sod(void) {
  for (int tries = 0; tries < 4; tries++) {
    u8 s = cmos_read(0x00), m = cmos_read(0x02), h = cmos_read(0x04);
    if (cmos_read(0x00) != s) continue;
    u32 hour;
    if (rtc_reg_b & 0x02) {
      hour = bcd(h);
    } else { /* 12-hour mode: bit 7 is PM */
      hour = bcd(h & 0x7f) % 12 + ((h & 0x80) ? 12 : 0);
    }
    return hour * 3600 + bcd(m) * 60 + bcd(s);
  }
  return 0;
}

/* Written by the RTC update-ended interrupt (IRQ8), read by the main loop with IF=0. */
volatile u32 rtc_irqs;      /* update-ended interrupts seen */
volatile u64 rtc_edge_tsc;  /* TSC when the latest one was handled */
volatile u32 rtc_edge_sod;  /* RTC seconds-of-day read right then */

void rtc_irq(void) {
  u64 t = rdtsc();
  u8 c = cmos_read(0x0C); /* reading C acknowledges the interrupt */
  if (c & 0x10) {         /* UF: update ended, a new second began */
    rtc_edge_sod = rtc_sod();
    rtc_edge_tsc = t;
    rtc_irqs++;
  }
  outb(0xA0, 0x20);
  outb(0x20, 0x20);
}

static void rtc_init(void) {
  rtc_reg_b = cmos_read(0x0B);
  cmos_write(0x0B, rtc_reg_b | 0x10); /* UIE: interrupt at every update (second edge) */
  rtc_reg_b = cmos_read(0x0B);
  (void)cmos_read(0x0C);
}

/*
 * Second edges are observed two ways; the first observation of a new second-of-day wins:
 *  - the update-ended interrupt (timestamped in rtc_irq): microsecond precision while halted,
 *    but it comes late when QEMU's main loop is slow to run the RTC timer (seen: tens of ms
 *    under load and under kvm-pvm);
 *  - polling the seconds register once per loop iteration: QEMU computes it from the host
 *    clock at read time, so it is never late by more than one loop iteration.
 */
static u32 seen_irqs, obs_sod;
static u8 last_sec_raw = 0xff;
static u64 obs_tsc;

/* Returns 1 with (obs_tsc, obs_sod) set when a second-of-day other than last_sod is observed. */
static int observe_edge(u64 now, u32 last_sod) {
  if (rtc_irqs != seen_irqs) {
    seen_irqs = rtc_irqs;
    if (rtc_edge_sod != last_sod) {
      obs_tsc = rtc_edge_tsc;
      obs_sod = rtc_edge_sod;
      return 1;
    }
  }
  u8 raw = cmos_read(0x00);
  if (raw != last_sec_raw) {
    last_sec_raw = raw;
    u32 sod = rtc_sod();
    if (sod != last_sod) {
      obs_tsc = now;
      obs_sod = sod;
      return 1;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- multiboot, cmdline */

struct mb_info {
  u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
  u32 syms[4];
  u32 mmap_length, mmap_addr;
};
struct mb_mmap {
  u32 size;
  u64 addr, len;
  u32 type;
} __attribute__((packed));

static char cmdline[512];

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }
static int starts(const char *s, const char *p) {
  while (*p)
    if (*s++ != *p++) return 0;
  return 1;
}
/* Parses a decimal at s; *ok=0 if none. */
static u32 parse_u32(const char *s, int *ok) {
  u32 v = 0;
  *ok = 0;
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (u32)(*s++ - '0');
    *ok = 1;
  }
  if (!(*s == 0 || is_space(*s))) *ok = 0;
  return v;
}

struct params {
  u32 rate;     /* MiB/s */
  int rate_max; /* rate=max */
  u32 wss_mib;  /* 0: default */
  u32 hz;       /* timer tick; 0 = spin without hlt */
  u32 drift;    /* MiB/s the working set slides through RAM; 0 = it stays put */
  u32 disk;     /* 4 KiB blocks/s written to the IDE disk; 0 = no disk I/O at all */
};

static void parse_cmdline(struct params *p) {
  const char *s = cmdline;
  int ok;
  while (*s) {
    while (is_space(*s)) s++;
    if (starts(s, "rate=max") && (s[8] == 0 || is_space(s[8]))) {
      p->rate_max = 1;
    } else if (starts(s, "rate=")) {
      u32 v = parse_u32(s + 5, &ok);
      if (ok) p->rate = v > 100000 ? 100000 : v, p->rate_max = 0;
    } else if (starts(s, "wss=")) {
      u32 v = parse_u32(s + 4, &ok);
      if (ok) p->wss_mib = v > 4096 ? 4096 : v;
    } else if (starts(s, "drift=")) {
      u32 v = parse_u32(s + 6, &ok);
      if (ok) p->drift = v > 4096 ? 4096 : v;
    } else if (starts(s, "disk=")) {
      u32 v = parse_u32(s + 5, &ok);
      if (ok) p->disk = v > 1000 ? 1000 : v;
    } else if (starts(s, "hz=")) {
      u32 v = parse_u32(s + 3, &ok);
      if (ok) p->hz = v == 0 ? 0 : v < 20 ? 20 : v > 10000 ? 10000 : v; /* PIT: >= 18.2 Hz */
    }
    while (*s && !is_space(*s)) s++;
  }
}

/* ---------------------------------------------------------------- the program */

void guest_fault(u32 vec) {
  l_reset();
  l_str("ferry-fault");
  l_field_u("vector", vec);
  l_emit();
}

static u64 tsc_khz;
static u64 tsc_to_us(u64 d) { return udiv64_32(d * 1000, (u32)tsc_khz, 0); }

/* ---------------------------------------------------------------- the disk (disk=N)
 *
 * The primary IDE master of the i440fx/PIIX controller (legacy ports), driven with ATA PIO and
 * polled (nIEN set: no IRQ14). Every write is a 4 KiB block (8 sectors) that checks itself; it
 * counts as acknowledged only once the FLUSH CACHE that follows it has completed, i.e. once QEMU
 * has made it durable in the image (cache=none: the flush is an fdatasync of the file).
 *
 * The I/O is a state machine advanced once per loop iteration, so a slow host flush never holds
 * the loop: an iteration either issues a command, copies one DRQ block into the data port, or
 * polls a status register. The stall meter keeps measuring the vCPU, not the disk.
 *
 * Block layout (little-endian), slot = seq mod slots, LBA = slot * 8:
 *   0 magic "FDSK"  4 version 1  8 boot id  12 slots  16 seq (u64)  24 LBA (u64)
 *   32..4091 fill: word i = disk_fill(boot, seq, i)   4092 FNV-1a 32 of bytes 0..4091
 */
#define ATA_DATA 0x1F0
#define ATA_ERROR 0x1F1
#define ATA_COUNT 0x1F2
#define ATA_LBA0 0x1F3
#define ATA_LBA1 0x1F4
#define ATA_LBA2 0x1F5
#define ATA_DRIVE 0x1F6
#define ATA_CMD 0x1F7 /* status on read */
#define ATA_CTL 0x3F6 /* alternate status on read */
#define ST_BSY 0x80
#define ST_DF 0x20
#define ST_DRQ 0x08
#define ST_ERR 0x01
#define BLOCK_SECTORS 8u
#define BLOCK_WORDS 1024u /* u32 words per 4 KiB block */
#define MAX_SLOTS (1u << 20) /* a 4 GiB ring at most (LBA28 reaches 128 GiB) */
#define DISK_MAGIC 0x4b534446u /* "FDSK" */
#define DISK_TIMEOUT_MS 10000u

enum disk_state { DISK_OFF, DISK_IDLE, DISK_WRITING, DISK_FLUSHING };
static struct {
  enum disk_state state;
  u32 sectors, slots, per_drq, sent, errors, boot;
  u64 seq, acked, started, retry_at;
  u32 blk[BLOCK_WORDS];
} dk;

/* Reading the alternate status four times is the 400 ns the drive may need after a select. */
static u8 ata_settle(void) {
  u8 st = 0;
  for (int i = 0; i < 4; i++) st = inb(ATA_CTL);
  return st;
}

/* Waits (bounded) until BSY clears; returns the status, or 0xFF on time-out. Boot time only. */
static u8 ata_wait_ready(void) {
  for (u32 spins = 0; spins < 10000000u; spins++) {
    u8 st = inb(ATA_CMD);
    if (!(st & ST_BSY)) return st;
  }
  return 0xFF;
}

static void disk_error(const char *op, u8 status) {
  dk.errors++;
  l_str("ferry-disk-error boot=");
  l_hex32(dk.boot);
  l_str(" op=");
  l_str(op);
  l_field_u("seq", dk.seq);
  l_str(" status=");
  l_hex32(status);
  l_str(" error=");
  l_hex32(inb(ATA_ERROR));
  l_emit();
}

/* IDENTIFY the primary master and choose the PIO mode; dk.slots stays 0 when there is no disk. */
static void disk_identify(void) {
  u16 id[256];
  outb(ATA_CTL, 0x02); /* nIEN: no IRQ14, everything is polled */
  outb(ATA_DRIVE, 0xA0);
  ata_settle();
  outb(ATA_COUNT, 0);
  outb(ATA_LBA0, 0);
  outb(ATA_LBA1, 0);
  outb(ATA_LBA2, 0);
  outb(ATA_CMD, 0xEC);
  u8 st = inb(ATA_CMD);
  if (st == 0 || st == 0xFF) { /* nothing on the bus */
    disk_error("identify", st);
    return;
  }
  st = ata_wait_ready();
  if (st == 0xFF || (st & (ST_ERR | ST_DF)) || !(st & ST_DRQ) || inb(ATA_LBA1) || inb(ATA_LBA2)) {
    disk_error("identify", st); /* an ATAPI device (CD-ROM) also ends here */
    return;
  }
  for (u32 i = 0; i < 256; i++) id[i] = inw(ATA_DATA);
  dk.sectors = (u32)id[60] | ((u32)id[61] << 16); /* LBA28-addressable sectors */
  dk.slots = dk.sectors / BLOCK_SECTORS;
  if (dk.slots > MAX_SLOTS) dk.slots = MAX_SLOTS;
  /* SET MULTIPLE MODE 8: the whole block in one DRQ burst, one 4 KiB write for QEMU. */
  dk.per_drq = 1;
  outb(ATA_COUNT, BLOCK_SECTORS);
  outb(ATA_CMD, 0xC6);
  st = ata_wait_ready();
  if (st != 0xFF && !(st & (ST_ERR | ST_DF))) dk.per_drq = BLOCK_SECTORS;
}

/* The fill of word i of block (boot, seq): a 32-bit mix, so no two sectors of the ring agree. */
static u32 disk_fill(u32 boot, u64 seq, u32 i) {
  u32 x = boot * 0x9E3779B1u ^ (u32)seq * 0x85EBCA77u ^ (u32)(seq >> 32) * 0xC2B2AE3Du ^ i;
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return x;
}

static void disk_start(u64 now) {
  u32 slot;
  (void)udiv64_32(dk.seq, dk.slots, &slot);
  u32 lba = slot * BLOCK_SECTORS;
  dk.blk[0] = DISK_MAGIC;
  dk.blk[1] = 1;
  dk.blk[2] = dk.boot;
  dk.blk[3] = dk.slots;
  dk.blk[4] = (u32)dk.seq;
  dk.blk[5] = (u32)(dk.seq >> 32);
  dk.blk[6] = lba;
  dk.blk[7] = 0;
  for (u32 i = 8; i < BLOCK_WORDS - 1; i++) dk.blk[i] = disk_fill(dk.boot, dk.seq, i);
  dk.blk[BLOCK_WORDS - 1] = fnv1a((const char *)dk.blk, BLOCK_WORDS * 4 - 4);
  outb(ATA_DRIVE, (u8)(0xE0 | ((lba >> 24) & 0x0F)));
  ata_settle();
  outb(ATA_COUNT, BLOCK_SECTORS);
  outb(ATA_LBA0, (u8)lba);
  outb(ATA_LBA1, (u8)(lba >> 8));
  outb(ATA_LBA2, (u8)(lba >> 16));
  outb(ATA_CMD, dk.per_drq > 1 ? 0xC5 : 0x30); /* WRITE MULTIPLE : WRITE SECTORS */
  dk.sent = 0;
  dk.started = now;
  dk.state = DISK_WRITING;
}

/* One step of the disk's state machine; at most one DRQ block of PIO per call. */
static void disk_step(u64 now, u64 tsc_per_block) {
  if (dk.state == DISK_OFF) return;
  if (dk.state == DISK_IDLE) {
    if (now < dk.retry_at) return;
    disk_start(now);
    return;
  }
  u8 st = inb(ATA_CMD);
  if (st & ST_BSY) {
    if (now - dk.started > tsc_khz * DISK_TIMEOUT_MS) {
      disk_error("timeout", st);
      outb(ATA_CTL, 0x06); /* SRST, then back to nIEN only */
      ata_settle();
      outb(ATA_CTL, 0x02);
      dk.state = DISK_IDLE;
      dk.retry_at = now + tsc_khz * 1000;
    }
    return;
  }
  if (st & (ST_ERR | ST_DF)) {
    disk_error(dk.state == DISK_FLUSHING ? "flush" : "write", st);
    dk.state = DISK_IDLE; /* the same seq again in a second */
    dk.retry_at = now + tsc_khz * 1000;
    return;
  }
  if (dk.state == DISK_WRITING) {
    if (dk.sent < BLOCK_SECTORS) {
      if (!(st & ST_DRQ)) return; /* QEMU may still be between two DRQ blocks */
      outsl(ATA_DATA, &dk.blk[dk.sent * 128], dk.per_drq * 128);
      dk.sent += dk.per_drq;
      return;
    }
    outb(ATA_CMD, 0xE7); /* FLUSH CACHE: the write is acknowledged when this completes */
    dk.state = DISK_FLUSHING;
    return;
  }
  /* DISK_FLUSHING, done: the block is durable. */
  dk.acked = dk.seq++;
  dk.state = DISK_IDLE;
  /* Paced from when the previous write was issued; a slow disk lowers the rate, never bursts. */
  dk.retry_at = dk.started + tsc_per_block;
}

/* Drift correction: the TSC rate from a 2 s calibration is off by tens of ppm (interrupt
 * latency). Most one-second intervals contain no stop, so the median of the raw estimates of
 * the last DRIFT_N one-second intervals is the calibration error per second; it is subtracted. */
#define DRIFT_N 15
static i64 drift_raw[DRIFT_N];
static u32 drift_n;
static i64 drift_median(void) {
  u32 n = drift_n < DRIFT_N ? drift_n : DRIFT_N;
  i64 v[DRIFT_N];
  if (n < 5) return 0;
  for (u32 i = 0; i < n; i++) {
    i64 x = drift_raw[i];
    u32 j = i;
    while (j > 0 && v[j - 1] > x) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
  return v[n / 2];
}

/* One RTC interval: from one update-ended interrupt to the next. */
struct interval {
  i64 stop_us; /* wall (whole seconds) minus TSC time: time the VM was stopped */
  u64 gap_us;  /* longest loop-iteration gap attributed to it */
};

void guest_main(u32 magic, struct mb_info *mbi) {
  struct params p = {.rate = 0, .rate_max = 0, .wss_mib = 0, .hz = 1000, .drift = 0, .disk = 0};
  u32 mem_end = 0; /* exclusive end of usable RAM above 1 MiB */

  serial_init();
  if (magic != 0x2BADB002) {
    l_str("ferry-fault bad-multiboot-magic");
    l_emit();
    return;
  }
  if ((mbi->flags & (1u << 2)) && mbi->cmdline) {
    const char *src = (const char *)mbi->cmdline;
    u32 i = 0;
    while (src[i] && i < sizeof(cmdline) - 1) {
      cmdline[i] = src[i];
      i++;
    }
    cmdline[i] = 0;
  }
  if (mbi->flags & 1u) mem_end = 0x100000u + mbi->mem_upper * 1024u;
  if (mbi->flags & (1u << 6)) { /* the available region that starts at 1 MiB bounds it too */
    u32 a = mbi->mmap_addr, end = a + mbi->mmap_length;
    while (a < end) {
      struct mb_mmap *m = (struct mb_mmap *)a;
      if (m->type == 1 && m->addr <= 0x100000u && m->addr + m->len > 0x100000u) {
        u64 e = m->addr + m->len;
        if (e > 0xFFFFF000ull) e = 0xFFFFF000ull;
        if (mem_end == 0 || (u32)e < mem_end) mem_end = (u32)e;
      }
      a += m->size + 4;
    }
  }
  parse_cmdline(&p);

  /* Working set: [2 MiB, 2 MiB + wss), never closer than 1 MiB to the end of RAM. */
  u32 avail_pages = 0;
  if (mem_end > WSS_START + TOP_MARGIN) avail_pages = (mem_end - TOP_MARGIN - WSS_START) >> 12;
  u32 wss_pages = p.wss_mib ? p.wss_mib * MIB_PAGES : avail_pages;
  if (wss_pages > avail_pages) wss_pages = avail_pages;
  volatile u32 *wss = (volatile u32 *)WSS_START;

  idt_init();
  pic_remap();
  pit_init(p.hz ? p.hz : 1000);
  rtc_init();

  /* Calibrate the TSC against RTC second edges (2 s). Fall back to the PIT after 4 s. */
  u32 ticks0 = pit_ticks;
  u64 t_start = rdtsc(), cal_t0 = 0, cal_t1 = 0;
  u32 cal_sod0 = 0, cal_sod1 = 0, cal_n = 0, cal_src_rtc = 1;
  seen_irqs = rtc_irqs;
  (void)observe_edge(t_start, 0xffffffffu); /* prime last_sec_raw */
  u32 cal_last_sod = obs_sod;
  for (;;) {
    sti_hlt_cli();
    if (observe_edge(rdtsc(), cal_last_sod)) {
      cal_last_sod = obs_sod;
      if (cal_n == 0) cal_t0 = obs_tsc, cal_sod0 = obs_sod;
      cal_t1 = obs_tsc, cal_sod1 = obs_sod;
      if (++cal_n == 3) break;
    }
    if (pit_ticks - ticks0 >= 4u * (p.hz ? p.hz : 1000)) {
      cal_src_rtc = 0;
      break;
    }
  }
  if (cal_src_rtc) {
    u32 secs = (cal_sod1 + 86400 - cal_sod0) % 86400;
    if (secs == 0) secs = 2;
    tsc_khz = udiv64_32(cal_t1 - cal_t0, secs * 1000, 0);
  } else {
    u32 pit_hz = p.hz ? p.hz : 1000;
    u32 ms = (u32)udiv64_32((u64)(pit_ticks - ticks0) * 1000, pit_hz, 0);
    tsc_khz = udiv64_32(rdtsc() - t_start, ms ? ms : 1, 0);
  }
  if (tsc_khz == 0) tsc_khz = 1;
  if (tsc_khz > 0xFFFFFFFFull) tsc_khz = 0xFFFFFFFFull;

  u64 now = rdtsc();
  u32 boot_id = fnv1a((const char *)&now, sizeof now) ^ (rtc_sod() * 2654435761u);

  if (p.disk) { /* before the boot line is built: an identify error prints a line of its own */
    dk.boot = boot_id;
    disk_identify();
  }
  l_str("ferry-guest v=1");
  l_str(" boot=");
  l_hex32(boot_id);
  l_field_u("mem_mib", mem_end >> 20);
  l_field_u("wss_mib", wss_pages / MIB_PAGES);
  l_str(" rate=");
  if (p.rate_max) l_str("max");
  else l_u64(p.rate);
  l_field_u("hz", p.hz);
  if (p.drift) l_field_u("drift", p.drift);
  l_field_u("tsc_khz", tsc_khz);
  l_str(cal_src_rtc ? " cal=rtc" : " cal=pit");
  if (p.disk) {
    l_field_u("disk", p.disk);
    l_field_u("disk_sectors", dk.sectors);
    l_field_u("disk_slots", dk.slots);
    l_field_u("disk_per_drq", dk.per_drq);
  }
  l_emit();
  if (p.disk && dk.slots) dk.state = DISK_IDLE, dk.seq = 1; /* seq 0 is never written: disk_ack=0 means none yet */
  const u64 tsc_per_block = p.disk ? udiv64_32(tsc_khz * 1000, p.disk, 0) : 0;

  /* Pacing: one page per tsc_per_page, never catching up more than 100 ms of backlog. */
  u64 tsc_per_page = 0;
  if (!p.rate_max && p.rate && wss_pages)
    tsc_per_page = udiv64_32(tsc_khz * 1000, p.rate * MIB_PAGES, 0);
  if (!p.rate_max && p.rate && tsc_per_page == 0) tsc_per_page = 1;
  const u64 backlog_cap = tsc_khz * 100;
  /* A moving working set: the window [base, base + wss) slides through all of the available RAM
   * at drift MiB/s (wrapping), so each pre-copy pass finds pages dirty that the previous one had
   * sent clean: remaining bytes rise and fall in a saw-tooth instead of settling. */
  u64 tsc_per_drift_page = 0;
  if (p.drift && avail_pages > wss_pages) tsc_per_drift_page = udiv64_32(tsc_khz * 1000, p.drift * MIB_PAGES, 0);
  u32 base_page = 0;
  const u64 hb_period = tsc_khz * HEARTBEAT_MS;

  u64 t0 = now, prev = now, next_due = now, next_hb = now;
  u64 pages_dirtied = 0, line_gap = 0, seq = 0, disk_line_max = 0;
  u32 page_idx = 0, value = 1;

  /* RTC intervals and windows. */
  u64 last_edge_tsc = cal_t1;
  u32 last_edge_sod = cal_sod1;
  if (!cal_src_rtc) last_edge_tsc = now, last_edge_sod = rtc_sod();
  u64 edges = 0;
  struct interval cur = {0, 0}, prev_iv = {0, 0}, last_iv = {0, 0};
  int have_prev_iv = 0;
  u64 win_since_line = 0, win_latest = 0;
  int win_new = 0;
  u64 win_hist[WINDOWS_KEPT] = {0};
  u32 win_pos = 0;
  i64 stoptot_us = 0;

  for (;;) {
    now = rdtsc();
    u64 gap = now - prev;
    prev = now;
    if (gap > line_gap) line_gap = gap;
    if (gap > cur.gap_us) cur.gap_us = gap; /* kept in TSC ticks until the interval closes */

    /* A second edge was observed: close the RTC interval. */
    if (observe_edge(now, last_edge_sod)) {
      u64 et = obs_tsc;
      u32 es = obs_sod;
      u32 secs = (es + 86400 - last_edge_sod) % 86400;
      i64 tsc_us = (i64)tsc_to_us(et - last_edge_tsc);
      i64 raw = (i64)secs * 1000000 - tsc_us;
      cur.stop_us = raw - drift_median() * (i64)secs;
      if (secs == 1) drift_raw[drift_n++ % DRIFT_N] = raw;
      cur.gap_us = tsc_to_us(cur.gap_us);
      last_edge_tsc = et;
      last_edge_sod = es;
      edges++;
      stoptot_us += cur.stop_us;
      if (have_prev_iv) {
        /* Window = this interval and the one before it. */
        i64 s = prev_iv.stop_us + cur.stop_us;
        u64 g = prev_iv.gap_us > cur.gap_us ? prev_iv.gap_us : cur.gap_us;
        u64 felt = g + (s > 0 ? (u64)s : 0);
        if (!win_new || felt > win_since_line) win_since_line = felt;
        win_new = 1;
        win_latest = felt;
        win_hist[win_pos++ % WINDOWS_KEPT] = felt;
      }
      have_prev_iv = 1;
      prev_iv = cur;
      last_iv = cur;
      cur.stop_us = 0;
      cur.gap_us = 0;
    }

    /* Dirty memory: one word per 4 KiB page, cycling through the working set. */
    u32 todo = 0;
    if (wss_pages) {
      if (p.rate_max) {
        todo = MAX_RATE_BATCH;
      } else if (tsc_per_page) {
        if (now > next_due + backlog_cap) next_due = now - backlog_cap;
        while (next_due <= now && todo < MAX_BATCH) {
          next_due += tsc_per_page;
          todo++;
        }
      }
    }
    if (tsc_per_drift_page) {
      u32 rem;
      (void)udiv64_32(udiv64_32(now - t0, (u32)(tsc_per_drift_page > 0xFFFFFFFFull ? 0xFFFFFFFFull : tsc_per_drift_page), 0), avail_pages, &rem);
      base_page = rem;
    }
    for (u32 i = 0; i < todo; i++) {
      u32 at = base_page + page_idx;
      if (at >= avail_pages) at -= avail_pages;
      wss[at << 10] = value;
      if (++page_idx >= wss_pages) page_idx = 0, value++;
    }
    pages_dirtied += todo;
    if (dk.state != DISK_OFF) {
      disk_step(now, tsc_per_block);
      u64 spent = rdtsc() - now; /* the loop's own disk work, inside the next gap */
      if (spent > disk_line_max) disk_line_max = spent;
    }

    /* Heartbeat. */
    if (now >= next_hb) {
      next_hb += hb_period;
      if (now >= next_hb) next_hb = now + hb_period; /* after a long stall: no burst of lines */
      u64 line_gap_us = tsc_to_us(line_gap);
      u64 felt = line_gap_us;
      for (u32 i = 0; i < WINDOWS_KEPT; i++)
        if (win_hist[i] > felt) felt = win_hist[i];
      l_str("ferry-hb boot=");
      l_hex32(boot_id);
      l_field_u("seq", seq++);
      l_field_u("t_ms", udiv64_32(now - t0, (u32)tsc_khz, 0));
      l_field_u("gap_us", line_gap_us);
      l_field_u("edge", edges);
      l_field_i("stop_us", last_iv.stop_us);
      l_field_u("win_us", win_new ? win_since_line : win_latest);
      l_field_u("felt_us", felt);
      l_field_i("stoptot_us", stoptot_us);
      l_field_u("dirtied_mib", pages_dirtied >> 8);
      if (p.disk) l_field_u("disk_ack", dk.acked), l_field_u("disk_us", tsc_to_us(disk_line_max));
      disk_line_max = 0;
      if (dk.errors) l_field_u("disk_err", dk.errors);
      l_emit();
      line_gap = 0;
      win_new = 0;
      win_since_line = 0;
    }

    if (p.rate_max || p.hz == 0) sti_nop_cli();
    else sti_hlt_cli();
  }
}
