"""Capsules: one module per driver, each behind the kernel's SyscallDriver interface."""
