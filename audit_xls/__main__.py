from audit_xls import main

main()
