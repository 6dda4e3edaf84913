-- never started: the signal came during boot
print("bootstrap ran")
