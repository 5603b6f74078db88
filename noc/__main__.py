from noc.cli import entry

entry()
