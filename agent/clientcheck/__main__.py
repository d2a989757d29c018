from clientcheck.cli import entry

entry()
