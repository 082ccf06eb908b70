"""tockshell.userland"""
