from lakegate_server.cli import main

main()
