from servicekit.entry import run

run("identity.bootstrap")
