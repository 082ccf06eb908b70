"""Scenario files shipped with tockshell (run them with `tockshell demo NAME`)."""
