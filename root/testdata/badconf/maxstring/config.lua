return { max_message = "64MB" }
