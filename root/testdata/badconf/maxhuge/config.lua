return { max_message = 2^50 }
