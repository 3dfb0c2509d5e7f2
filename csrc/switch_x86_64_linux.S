/*
 * The user-space switch (x86-64, System V ABI, Linux with FSGSBASE).
 *
 * A parked greenlet's stack holds, from its saved stack pointer upwards:
 *
 *   fs base | mxcsr, x87 cw | r15 | r14 | r13 | r12 | rbx | rbp | return address
 *
 * Swapping FS together with the stack is what makes V8 see each greenlet as
 * its own thread: its thread_locals, pthread_self() and the stack bounds that
 * the conservative GC scan uses all come from the owner thread's TLS.
 */

    .text

/* void gl_swap(void** save_sp, void* load_sp)
 * Saves the current context below the stack pointer, stores the stack pointer
 * in *save_sp, loads the context saved at load_sp and returns into it. */
    .globl  gl_swap
    .hidden gl_swap
    .type   gl_swap, @function
    .p2align 4
gl_swap:
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)              /* SSE rounding and exception masks are callee-saved */
    fnstcw  4(%rsp)             /* so is the x87 control word */
    rdfsbase %rax
    pushq   %rax
    .cfi_adjust_cfa_offset 8

    movq    %rsp, (%rdi)
    movq    %rsi, %rsp

    popq    %rax
    wrfsbase %rax
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .cfi_endproc
    .size   gl_swap, .-gl_swap

/* void gl_call_on_stack(void (*fn)(void*), void* arg, void* stack_top)
 * Calls fn(arg) with the stack pointer at stack_top (16-byte aligned) and
 * returns on the caller's stack. rbp keeps the caller's frame, so unwinders
 * walk from fn's frames back to the caller's. */
    .globl  gl_call_on_stack
    .hidden gl_call_on_stack
    .type   gl_call_on_stack, @function
    .p2align 4
gl_call_on_stack:
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbp, 0
    movq    %rsp, %rbp
    .cfi_def_cfa_register rbp
    movq    %rdx, %rsp
    movq    %rdi, %rax
    movq    %rsi, %rdi
    call    *%rax
    movq    %rbp, %rsp
    .cfi_def_cfa_register rsp
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbp
    ret
    .cfi_endproc
    .size   gl_call_on_stack, .-gl_call_on_stack

/* The first frame of every greenlet: gl_swap "returns" here with the
 * Greenlet* in r12 (PrepareFirstFrame, switch_x86_64_linux_setup.cc).
 * gl_greenlet_main never returns; it leaves by swapping to another greenlet. */
    .globl  gl_entry
    .hidden gl_entry
    .type   gl_entry, @function
    .p2align 4
gl_entry:
    .cfi_startproc
    .cfi_undefined rip          /* the outermost frame: unwinders stop here */
    xorl    %ebp, %ebp
    movq    %r12, %rdi
    call    gl_greenlet_main
    ud2
    .cfi_endproc
    .size   gl_entry, .-gl_entry

    .section .note.GNU-stack,"",@progbits
