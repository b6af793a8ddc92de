from servicekit.entry import run

run("directory.bootstrap")
