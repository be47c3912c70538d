from cc_tui.cli.app import main

main()
