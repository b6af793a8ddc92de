from data_import.bootstrap import main

main()
