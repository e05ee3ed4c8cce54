from glotta.cli.app import main

main()
