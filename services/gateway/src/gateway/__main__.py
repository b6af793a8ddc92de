from servicekit.entry import run

run("gateway.main", http_server=True)
