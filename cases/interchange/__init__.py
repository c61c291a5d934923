"""Import and export in the Standard Safeguarding Dataset (SSD) shape, plus our extensions."""
