from audit_xls.cli import main

main()
