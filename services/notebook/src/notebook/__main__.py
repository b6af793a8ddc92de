from servicekit.entry import run

run("notebook.bootstrap")
