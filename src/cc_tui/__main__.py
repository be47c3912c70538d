from cc_tui.cli.main import main

main()
