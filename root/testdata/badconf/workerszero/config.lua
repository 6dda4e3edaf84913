return { workers = 0 }
