"""Pure parsers for the file formats the inspectors read: text in, values out, no I/O."""
