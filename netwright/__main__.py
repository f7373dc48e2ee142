from netwright.cli import main

raise SystemExit(main())
