from servicekit.entry import run

run("notify.bootstrap")
