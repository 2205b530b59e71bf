"""ProfitDLL: the ctypes binding to Nelogica's DLL and the pure translation of its records."""
