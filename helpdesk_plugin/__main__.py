from helpdesk_plugin.app import main

main()
