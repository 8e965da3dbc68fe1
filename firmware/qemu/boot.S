/* Bare-metal x86-64 entry for the BareFlow QEMU image.
 *
 * QEMU's `-kernel` loads this ELF at its physical addresses and, finding the PVH note below,
 * enters `pvh_start` in 32-bit protected mode: paging off, flat 4 GiB segments, interrupts
 * off, %ebx = the hvm_start_info (unused here). This file then
 *   1. zeroes .bss (arena, stack and page tables live there),
 *   2. builds page tables identity-mapping the first 1 GiB: 4 KiB pages for the first 2 MiB,
 *      where everything from __ro_start to __ro_end (code, read-only data and the embedded
 *      snapshots) is mapped read-only, 2 MiB pages above,
 *   3. enables PAE, long mode, paging with CR0.WP (so supervisor writes to read-only pages
 *      fault: the execute-in-place snapshots really run from read-only memory, like flash),
 *      and SSE (CR0.EM = 0, CR0.MP = 1, CR4.OSFXSR | CR4.OSXMMEXCPT),
 *   4. loads a 64-bit GDT, far-jumps to 64-bit code, installs an IDT whose 32 exception
 *      vectors report on the serial port and leave QEMU with a failure code,
 *   5. calls kmain(), which never returns (it leaves through isa-debug-exit).
 */

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

#define STACK_SIZE (1 << 20)

/* ---- the PVH note: XEN_ELFNOTE_PHYS32_ENTRY (18), owner "Xen", 32-bit entry address --- */
    .section .note.pvh, "a", @note
    .balign 4
    .long 4                 /* name size ("Xen\0") */
    .long 4                 /* descriptor size */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start
    .balign 4

/* ---- 32-bit entry ------------------------------------------------------------------------ */
    .section .text.boot, "ax", @progbits
    .code32
    .globl pvh_start
pvh_start:
    cli
    cld

    /* Zero .bss (QEMU zero-fills it too, but the image should not depend on that). */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    mov $stack_top, %esp

    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[0] -> PT (4 KiB pages), PD[1..511] = 2 MiB pages. */
    mov $pdpt, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, pml4
    mov $pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, pdpt
    mov $pt, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, pd

    mov $1, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_W | PTE_PS), %eax
    mov %eax, pd(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 1b

    /* The first 2 MiB, page by page: read-only inside [__ro_start, __ro_end). Page 0 stays
     * unmapped so that a null pointer dereference faults. */
    mov $1, %ecx
2:  mov %ecx, %eax
    shl $12, %eax
    mov $(PTE_P | PTE_W), %edx
    cmp $__ro_start, %eax
    jb 3f
    cmp $__ro_end, %eax
    jae 3f
    mov $PTE_P, %edx
3:  or %edx, %eax
    mov %eax, pt(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 2b

    mov $pml4, %eax
    mov %eax, %cr3

    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4

    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr

    mov %cr0, %eax
    and $~(CR0_EM | CR0_TS), %eax
    or $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0

    lgdt gdt_ptr
    ljmp $0x08, $long_start

/* ---- 64-bit code ------------------------------------------------------------------------- */
    .code64
long_start:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov $stack_top, %rsp
    xor %ebp, %ebp
    fninit

    /* IDT: 32 interrupt gates, vector i -> isr_stubs + 16 * i. */
    lea idt(%rip), %rdi
    lea isr_stubs(%rip), %rsi
    xor %ecx, %ecx
4:  mov %rsi, %rax
    mov %ax, (%rdi)                 /* offset 15:0 */
    movw $0x08, 2(%rdi)             /* code selector */
    movw $0x8e00, 4(%rdi)           /* present, DPL 0, 64-bit interrupt gate */
    shr $16, %rax
    mov %ax, 6(%rdi)                /* offset 31:16 */
    shr $16, %rax
    mov %eax, 8(%rdi)               /* offset 63:32 */
    movl $0, 12(%rdi)
    add $16, %rdi
    add $16, %rsi
    inc %ecx
    cmp $32, %ecx
    jne 4b
    lidt idt_ptr(%rip)

    call kmain
5:  hlt
    jmp 5b

/* Exception stubs, 16 bytes each: push a dummy error code where the CPU pushes none, push the
 * vector, go to the common handler. */
    .balign 16
isr_stubs:
    .irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp isr_common
    .endr

isr_common:
    /* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
    mov (%rsp), %rdi                /* vector */
    mov 8(%rsp), %rsi               /* error code */
    mov 16(%rsp), %rdx              /* faulting RIP */
    mov %cr2, %rcx                  /* faulting address (page faults) */
    and $-16, %rsp
    call exception                  /* does not return */
6:  hlt
    jmp 6b

/* ---- descriptor tables ------------------------------------------------------------------- */
/* Read-only like the rest of the image: the accessed bits are set in advance, so that loading
 * a segment register never makes the CPU write to the GDT. */
    .section .rodata.boot, "a", @progbits
    .balign 16
gdt:
    .quad 0                         /* null */
    .quad 0x00af9b000000ffff        /* 0x08: 64-bit code, present, DPL 0, accessed */
    .quad 0x00cf93000000ffff        /* 0x10: data, present, writable, accessed */
gdt_end:
    .balign 4
gdt_ptr:
    .word gdt_end - gdt - 1
    .long gdt
    .balign 8
idt_ptr:
    .word 32 * 16 - 1
    .quad idt

/* ---- page tables, IDT, stack (zeroed above) --------------------------------------------- */
    .section .bss.boot, "aw", @nobits
    .balign 4096
    .globl pd                       /* main.c maps its snapshot buffer's 2 MiB page read-only */
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096
pt:     .skip 4096
idt:    .skip 32 * 16
    .balign 16
stack_bottom:
    .skip STACK_SIZE
stack_top:

    .section .note.GNU-stack, "", @progbits
