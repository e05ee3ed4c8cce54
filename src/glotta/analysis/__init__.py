"""Reading results (MTEB's and glotta's) and comparing models across languages."""
