import sys

from tfbench.cli import main

if __name__ == "__main__":  # not when multiprocessing's spawn re-imports this module in a worker
    sys.exit(main())
