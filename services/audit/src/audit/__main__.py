from audit.bootstrap import main

main()
