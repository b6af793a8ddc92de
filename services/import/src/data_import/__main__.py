from data_import.bootstrap import main

# Guarded: the pool of parsers starts its processes with "spawn", which imports this module again in each of them.
if __name__ == "__main__":
    main()
