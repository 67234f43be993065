# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

dist_noinst_SCRIPTS += \
	utilities/build-ovs.sh \
	utilities/demo.sh \
	utilities/quickstart.sh
EXTRA_DIST += utilities/demo-cluster.json
