#!/bin/sh
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Generates the build system: run once after a fresh clone.
set -e
cd "$(dirname "$0")"
autoreconf --install --force
