# The binding's version; the C library's is libnnfs.version().
__version__ = "0.1.0"
