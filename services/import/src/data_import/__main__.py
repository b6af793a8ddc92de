from servicekit.entry import run

run("data_import.bootstrap")
