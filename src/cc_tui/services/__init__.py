"""Every operation of the domain. The only writer; imports no UI library."""
