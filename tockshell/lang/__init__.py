"""tockshell.lang"""
