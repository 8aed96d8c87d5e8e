from octoscope.cli import main

main()
