"""tockshell.userland.apps"""
