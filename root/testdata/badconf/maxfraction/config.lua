return { max_message = 1.5 }
