# Copyright 2026 The cinder-ocfs2 Authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.
#
# The boot-disk "guest": a 512-byte x86 boot sector that proves which bytes
# a server sees on its disks, fast enough for a nested TCG guest.
#
# Assembled and linked by bootdisk.py with GNU binutils only (no C
# preprocessor runs; comments start with '#'):
#
#   as --32 -o bootdisk.o bootdisk.S
#   ld -m elf_i386 -Ttext=0x7c00 --oformat=binary -o bootdisk.bin bootdisk.o
#
# The BIOS loads it at 0000:7c00 in 16-bit real mode with the boot drive in
# DL. It prints to COM1 (0x3f8, 115200 8N1), lines ending in "\r\n"
# (after one "\r\n" that ends whatever the BIOS printed last):
#
#   BOOT <n>                      n: the boot count, decimal, from 1
#   DISK <dd> <head> SUM <sum>    one line per BIOS hard disk 0x80..0x83
#   DONE
#
# <n> is the little-endian 32-bit counter in the first 4 bytes of LBA 64 of
# the boot disk, incremented and written back before it is printed. <dd> is
# the BIOS drive number (2 hex digits), <head> the first 16 bytes of the
# disk's sector 0 (32 hex digits) and <sum> the 32-bit FNV-1a hash of the
# 63 sectors LBA 1..63 (8 hex digits). All hex is lower case. A failed BIOS
# call prints "BOOT ERR <ah>" or "DISK <dd> ERR <ah>" instead, <ah> being
# the int 13h status. The disks are those the BIOS data area counts (byte
# 0040:0075), at most four. Then the CPU halts for good.
#
# 32-bit registers are used through operand-size prefixes (any CPU since
# the 386 allows that in real mode).

        .code16
        .text
        .globl  _start

# Serial port COM1 and its registers.
        .set    COM1, 0x3f8
        .set    COM1_DATA, COM1 + 0     # transmit holding / divisor low
        .set    COM1_IER, COM1 + 1      # interrupt enable / divisor high
        .set    COM1_FCR, COM1 + 2      # FIFO control
        .set    COM1_LCR, COM1 + 3      # line control
        .set    COM1_MCR, COM1 + 4      # modem control
        .set    COM1_LSR, COM1 + 5      # line status
        .set    LSR_THRE, 0x20          # transmit holding register empty

# Disk buffer: 64 sectors (32 KiB) at physical 0x10000, reached through ES.
        .set    BUF_SEG, 0x1000
        .set    SECTOR, 512
        .set    COUNTER_LBA, 64         # the boot counter's sector
        .set    SUM_SECTORS, 63         # LBA 1..63 are hashed

# BIOS data area: number of hard disks the BIOS found, timer ticks.
        .set    BDA_HDCOUNT, 0x475
        .set    BDA_TICKS, 0x46c
        .set    MAX_DISKS, 4

# FNV-1a, 32-bit.
        .set    FNV_BASIS, 0x811c9dc5
        .set    FNV_PRIME, 0x01000193

# outb PORT, VALUE: write one byte to an I/O port (clobbers AL, DX).
        .macro  outb port, value
        mov     $\port, %dx
        mov     $\value, %al
        out     %al, %dx
        .endm

_start:
        # Known segments (CS:IP may be 07c0:0000 on some BIOSes) and a stack
        # below the boot sector.
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %ss
        mov     $0x7c00, %sp
        ljmp    $0, $start
start:
        sti
        mov     $BUF_SEG, %ax
        mov     %ax, %es
        cld
        mov     %dl, boot_drive

        # COM1: divisor 1 (115200 baud), 8 data bits, no parity, 1 stop bit,
        # FIFOs on, interrupts off, DTR and RTS up.
        outb    COM1_IER, 0x00
        outb    COM1_LCR, 0x80          # DLAB: next two are the divisor
        outb    COM1_DATA, 0x01
        outb    COM1_IER, 0x00
        outb    COM1_LCR, 0x03          # 8N1, DLAB off
        outb    COM1_FCR, 0xc7
        outb    COM1_MCR, 0x03

        # Wait for one BIOS timer tick (the tick count at 0040:006c moves),
        # interrupts on. SeaBIOS's serial console (qemu -nographic, no VGA)
        # holds back its last character and line break until the timer
        # interrupt flushes them; without the wait they would land in the
        # middle of our first line.
        mov     BDA_TICKS, %ax
1:      hlt
        cmp     BDA_TICKS, %ax
        je      1b

        # --- Boot counter: read LBA 64, add one, write it back. ---
        # A line break first, ending whatever the BIOS printed last.
        call    crlf
        mov     $msg_boot, %si
        call    puts
        mov     boot_drive, %dl
        mov     $COUNTER_LBA, %ax
        mov     $1, %cx
        mov     $0x42, %bh              # extended read
        call    disk_io
        jc      boot_error
        incl    %es:0
        mov     boot_drive, %dl
        mov     $COUNTER_LBA, %ax
        mov     $1, %cx
        mov     $0x43, %bh              # extended write (AL=0: no verify)
        call    disk_io
        jc      boot_error
        mov     %es:0, %eax
        call    putdec
        jmp     boot_done
boot_error:
        call    put_error
boot_done:
        call    crlf

        # --- One line per hard disk: its first bytes and checksum. ---
        mov     BDA_HDCOUNT, %cl
        cmp     $MAX_DISKS, %cl
        jbe     1f
        mov     $MAX_DISKS, %cl
1:      mov     $0x80, %dl
disk_loop:
        test    %cl, %cl
        jz      all_done
        push    %cx
        push    %dx

        mov     $msg_disk, %si
        call    puts
        mov     %dl, %al
        call    puthex8
        mov     $' ', %al
        call    putc

        # LBA 0..63 in one read: sector 0 at ES:0, LBA 1 at ES:512.
        xor     %ax, %ax
        mov     $SUM_SECTORS + 1, %cx
        mov     $0x42, %bh
        call    disk_io
        jc      disk_error

        # The first 16 bytes of sector 0.
        xor     %si, %si
2:      mov     %es:(%si), %al
        call    puthex8
        inc     %si
        cmp     $16, %si
        jb      2b

        # FNV-1a over LBA 1..63: h = (h xor byte) * prime, mod 2**32.
        mov     $FNV_BASIS, %ebx
        mov     $SECTOR, %si
        mov     $SUM_SECTORS * SECTOR, %cx
3:      xor     %es:(%si), %bl
        imul    $FNV_PRIME, %ebx, %ebx
        inc     %si
        loop    3b

        mov     $msg_sum, %si
        call    puts
        mov     %ebx, %eax
        call    puthex32
        jmp     disk_next
disk_error:
        call    put_error
disk_next:
        call    crlf
        pop     %dx
        pop     %cx
        inc     %dl
        dec     %cl
        jmp     disk_loop

all_done:
        mov     $msg_done, %si
        call    puts
        call    crlf
        # Nothing more to do: halt with interrupts off, for good.
        cli
halt:
        hlt
        jmp     halt

# disk_io: int 13h extended read (BH=0x42) or write (BH=0x43) of CX
# sectors from LBA AX of drive DL, to or from ES:0. Carry set on failure,
# with the BIOS status in AH. Clobbers AX, SI.
disk_io:
        mov     $dap, %si
        movw    %cx, 2(%si)             # sector count
        movw    $0, 4(%si)              # buffer offset
        movw    %es, 6(%si)             # buffer segment
        movw    %ax, 8(%si)             # LBA, low word; the rest stays 0
        mov     %bh, %ah
        xor     %al, %al
        int     $0x13
        ret

# put_error: print "ERR <AH>" (after a failed int 13h).
put_error:
        push    %ax
        mov     $msg_err, %si
        call    puts
        pop     %ax
        mov     %ah, %al
        jmp     puthex8

# putdec: print EAX in decimal. Clobbers EAX, EBX, CX, EDX.
putdec:
        mov     $10, %ebx
        xor     %cx, %cx
1:      xor     %edx, %edx
        div     %ebx                    # EAX = EAX / 10, EDX = digit
        push    %dx
        inc     %cx
        test    %eax, %eax
        jnz     1b
2:      pop     %ax
        add     $'0', %al
        call    putc
        loop    2b
        ret

# puthex32: print EAX as 8 hex digits. Clobbers CX; EAX is rotated back.
puthex32:
        mov     $4, %cx
1:      rol     $8, %eax
        call    puthex8
        loop    1b
        ret

# puthex8: print AL as 2 hex digits. Preserves AX.
puthex8:
        push    %ax
        shr     $4, %al
        call    putnibble
        pop     %ax
        push    %ax
        and     $0x0f, %al
        call    putnibble
        pop     %ax
        ret

# putnibble: print the low 4 bits of AL (0..15) as one hex digit.
putnibble:
        add     $'0', %al
        cmp     $'9', %al
        jbe     putc
        add     $'a' - '9' - 1, %al
        # falls through to putc

# putc: send AL to COM1 once the transmitter is free. Preserves AX, DX.
putc:
        push    %dx
        push    %ax
        mov     $COM1_LSR, %dx
1:      in      %dx, %al
        test    $LSR_THRE, %al
        jz      1b
        pop     %ax
        mov     $COM1_DATA, %dx
        out     %al, %dx
        pop     %dx
        ret

crlf:
        mov     $msg_crlf, %si
        # falls through to puts

# puts: print the NUL-terminated string at DS:SI. Clobbers SI.
puts:
        push    %ax
1:      lodsb
        test    %al, %al
        jz      2f
        call    putc
        jmp     1b
2:      pop     %ax
        ret

msg_boot:       .asciz  "BOOT "
msg_disk:       .asciz  "DISK "
msg_sum:        .asciz  " SUM "
msg_err:        .asciz  "ERR "
msg_done:       .asciz  "DONE"
msg_crlf:       .asciz  "\r\n"

boot_drive:     .byte   0

# Disk address packet of the int 13h extensions (16 bytes).
        .balign 4
dap:
        .byte   16                      # size of the packet
        .byte   0                       # reserved
        .word   0                       # sectors to transfer
        .word   0, 0                    # buffer offset, segment
        .quad   0                       # first LBA

# One partition entry: the image format checks of glance, cinder and nova
# (oslo.utils' format inspector) refuse a disk whose MBR defines none.  It
# covers LBA 1 to the end of a 64 MiB disk, type 0xda (non-filesystem
# data); the BIOS ignores it.  It is the table's second entry: the first
# (bytes 446-461) overlaps the end of dap above, whose zero bytes make it a
# valid empty entry.  `as` fails here if the code has grown past 462.
        .org    462
        .byte   0x00                    # not active
        .byte   0, 2, 0                 # CHS start (unused)
        .byte   0xda                    # type
        .byte   0xfe, 0xff, 0xff        # CHS end (unused)
        .long   1                       # first LBA
        .long   131071                  # sectors

# The boot signature in the last two bytes of the sector.
        .org    510
        .word   0xaa55
