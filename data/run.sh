echo "make run: nothing to run yet"
