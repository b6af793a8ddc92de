from notebook.bootstrap import main

main()
