import sys

chunk = "spam " * 20000 + "\n"
for _ in range(100000):
    sys.stdout.write(chunk)
    sys.stderr.write(chunk)
