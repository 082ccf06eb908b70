"""tockshell.shell"""
