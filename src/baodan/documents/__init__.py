"""Documents: shipping labels, pick lists and packing slips as PDFs (typst, CJK fonts from PyPI)."""
