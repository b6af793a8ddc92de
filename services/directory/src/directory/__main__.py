from directory.bootstrap import main

main()
