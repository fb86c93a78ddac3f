//go:build amd64 && !purego

#include "textflag.h"

// FOLD replaces the 128-bit accumulator acc = H (low quadword) + L (high
// quadword) by H·k.low ⊕ L·k.high, a 128-bit value congruent to acc·x^T mod P,
// where k holds the constants for distance T (see crc64_amd64.go). tmp is
// clobbered.
#define FOLD(acc, tmp, k) \
	MOVO      acc, tmp \
	PCLMULQDQ $0x00, k, acc \
	PCLMULQDQ $0x11, k, tmp \
	PXOR      tmp, acc

// FOLD_IN folds acc over the 16 bytes at off(SI) and xors them in. Legacy SSE
// memory operands must be aligned, so the block goes through tmp.
#define FOLD_IN(acc, tmp, k, off) \
	FOLD(acc, tmp, k) \
	MOVOU off(SI), tmp \
	PXOR  tmp, acc

// func foldBlocks(crc uint64, p []byte, k *foldConstants) (lo, hi uint64)
TEXT ·foldBlocks(SB), NOSPLIT, $0-56
	MOVQ crc+0(FP), AX
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	MOVQ k+32(FP), DX

	// Four accumulators X0..X3 over the first 64 bytes, the running CRC
	// xored into the first 8.
	MOVQ  AX, X8
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	PXOR  X8, X0
	ADDQ  $64, SI
	SUBQ  $64, CX

	// Each accumulator moves 64 bytes forward per iteration. The four
	// multiply chains are independent, which hides the PCLMULQDQ latency;
	// eight measured no faster (the multiplier's throughput is the limit).
	MOVOU 0(DX), X9 // k.by512
	CMPQ  CX, $64
	JB    combine

loop64:
	FOLD_IN(X0, X4, X9, 0)
	FOLD_IN(X1, X5, X9, 16)
	FOLD_IN(X2, X6, X9, 32)
	FOLD_IN(X3, X7, X9, 48)
	ADDQ $64, SI
	SUBQ $64, CX
	CMPQ CX, $64
	JAE  loop64

combine:
	// X0..X3 are consecutive blocks: fold each into its successor.
	MOVOU 16(DX), X9 // k.by128
	FOLD(X0, X4, X9)
	PXOR X0, X1
	FOLD(X1, X5, X9)
	PXOR X1, X2
	FOLD(X2, X6, X9)
	PXOR X2, X3

	// Remaining 16-byte blocks, one at a time.
loop16:
	CMPQ CX, $16
	JB   done
	FOLD_IN(X3, X4, X9, 0)
	ADDQ $16, SI
	SUBQ $16, CX
	JMP  loop16

done:
	MOVQ   X3, lo+40(FP)
	PSRLDQ $8, X3
	MOVQ   X3, hi+48(FP)
	RET
