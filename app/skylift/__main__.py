from skylift.entry.cli import main

raise SystemExit(main())
