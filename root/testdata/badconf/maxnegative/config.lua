return { max_message = -1 }
