"""tockshell.debugger"""
