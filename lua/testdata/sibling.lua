-- sibling: a module next to the script that requires it.
return { name = "sibling" }
