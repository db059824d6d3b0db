from maintenance.cli import main

main()
