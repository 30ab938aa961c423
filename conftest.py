pytest_plugins = ["motcua_devstack.testing"]
