return { workers = 2.5 }
