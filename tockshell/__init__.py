"""tockshell: a syscall-level REPL and debugger for a model of the Tock kernel (2.3)."""

__version__ = "0.1.0"
TOCK_KERNEL_VERSION = (2, 3)
