/*
 * ferry lab guest: multiboot (v1) header, entry, GDT, interrupt stubs.
 * 32-bit protected mode, no paging. Loaded by QEMU's -kernel multiboot loader at 1 MiB.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-align modules, bit 1: provide memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text
	.globl _start
_start:
	cli
	cld
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movw $0x10, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	movl $stack_top, %esp
	xorl %ebp, %ebp
	pushl %ebx /* multiboot info pointer */
	pushl %eax /* multiboot magic */
	call guest_main
2:	cli
	hlt
	jmp 2b

/*
 * Interrupts only ever arrive at the main loop's "sti; hlt; cli" (or "sti; nop; cli"): the rest
 * runs with IF=0. So the stubs return with IRET_NOIF: pop the return address, drop CS and EFLAGS
 * and jump, leaving IF=0 (the next instruction is cli anyway) and the flags clobbered (the
 * interrupted asm does not keep flags live). Reason: the kvm-pvm flavour of KVM on these
 * machines cannot emulate a protected-mode IRET ("INTERNAL_ERROR in batch emul"); TCG does not
 * care either way. Single vCPU (others never start), so one scratch word is enough.
 */
.macro IRET_NOIF
	popl iret_scratch
	addl $8, %esp
	jmp *iret_scratch
.endm

/* IRQ0 (PIT): count the tick, EOI the master PIC. */
	.globl irq0_stub
irq0_stub:
	pushl %eax
	incl pit_ticks
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	IRET_NOIF

/* IRQ8 (RTC): the C handler timestamps the update-ended interrupt and sends the EOIs. */
	.globl irq8_stub
irq8_stub:
	pushal
	cld
	call rtc_irq
	popal
	IRET_NOIF

/* Other master IRQs (1..7): EOI and return (IRQ7 may be spurious: EOI is harmless here). */
	.globl irq_master_stub
irq_master_stub:
	pushl %eax
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	IRET_NOIF

/* Other slave IRQs (9..15): EOI both PICs. */
	.globl irq_slave_stub
irq_slave_stub:
	pushl %eax
	movb $0x20, %al
	outb %al, $0xA0
	outb %al, $0x20
	popl %eax
	IRET_NOIF

/* CPU exceptions 0..31: report the vector and stop. */
.macro EXC n
	.globl exc_stub_\n
exc_stub_\n:
	cli
	pushl $\n
	call guest_fault
	jmp 2b
.endm
	EXC 0
	EXC 1
	EXC 2
	EXC 3
	EXC 4
	EXC 5
	EXC 6
	EXC 7
	EXC 8
	EXC 9
	EXC 10
	EXC 11
	EXC 12
	EXC 13
	EXC 14
	EXC 15
	EXC 16
	EXC 17
	EXC 18
	EXC 19
	EXC 20
	EXC 21
	EXC 22
	EXC 23
	EXC 24
	EXC 25
	EXC 26
	EXC 27
	EXC 28
	EXC 29
	EXC 30
	EXC 31

	.globl exc_stub_table
	.section .rodata
	.align 4
exc_stub_table:
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long exc_stub_\n
	.endr

	.align 8
gdt:
	.quad 0x0000000000000000 /* null */
	.quad 0x00CF9A000000FFFF /* 0x08: code, flat 4 GiB, 32-bit */
	.quad 0x00CF92000000FFFF /* 0x10: data, flat 4 GiB */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

	.section .bss
	.align 4
iret_scratch:
	.skip 4
	.align 16
stack_bottom:
	.skip 16384
stack_top:
