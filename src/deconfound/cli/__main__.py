from deconfound.cli import main

main()
