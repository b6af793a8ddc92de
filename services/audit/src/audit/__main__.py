from servicekit.entry import run

run("audit.bootstrap")
