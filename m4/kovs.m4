# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

# KOVS_CHECK_OVS
# --------------
# Finds the OVS source tree and the directory where it was built, from
# --with-ovs-source and --with-ovs-build, checks that libopenvswitch has been
# built there, and sets OVS_CPPFLAGS, OVS_LIBS and OVS_SRCDIR/OVS_BUILDDIR.
# Writes ovs-config.h: OVS's own config.h without its package names, which
# kovs's config.h includes first.
AC_DEFUN([KOVS_CHECK_OVS], [
  AC_ARG_WITH([ovs-source],
    [AS_HELP_STRING([--with-ovs-source=DIR],
                    [Open vSwitch source tree (required)])],
    [OVS_SRCDIR=`cd "$withval" && pwd`],
    [AC_MSG_ERROR([--with-ovs-source=DIR is required; utilities/build-ovs.sh prepares one])])
  AC_ARG_WITH([ovs-build],
    [AS_HELP_STRING([--with-ovs-build=DIR],
                    [directory where Open vSwitch was built (default: the source tree)])],
    [OVS_BUILDDIR=`cd "$withval" && pwd`],
    [OVS_BUILDDIR=$OVS_SRCDIR])

  AC_MSG_CHECKING([for the OVS source tree])
  AS_IF([test -f "$OVS_SRCDIR/include/openvswitch/version.h.in"],
        [AC_MSG_RESULT([$OVS_SRCDIR])],
        [AC_MSG_ERROR([$OVS_SRCDIR is not an Open vSwitch source tree])])

  AC_MSG_CHECKING([for libopenvswitch in $OVS_BUILDDIR])
  AS_IF([test -f "$OVS_BUILDDIR/lib/.libs/libopenvswitch.a" &&
         test -f "$OVS_BUILDDIR/config.h" &&
         test -f "$OVS_BUILDDIR/lib/vswitch-idl.h"],
        [AC_MSG_RESULT([yes])],
        [AC_MSG_ERROR([libopenvswitch is not built in $OVS_BUILDDIR; run utilities/build-ovs.sh])])

  OVS_CPPFLAGS="-I$OVS_BUILDDIR/include -I$OVS_SRCDIR/include -I$OVS_BUILDDIR/lib -I$OVS_SRCDIR/lib -I$OVS_BUILDDIR -I$OVS_SRCDIR"
  OVS_LIBS="$OVS_BUILDDIR/lib/.libs/libopenvswitch.a"
  AS_IF([test -f "$OVS_BUILDDIR/lib/.libs/libopenvswitchavx512.a"],
        [OVS_LIBS="$OVS_LIBS $OVS_BUILDDIR/lib/.libs/libopenvswitchavx512.a"])
  dnl The libraries libopenvswitch itself depends on, as libtool recorded
  dnl them (without the .la files, which are linked above).
  ovs_extra_libs=`sed -n "s/^dependency_libs='\\(.*\\)'$/\\1/p" \
      "$OVS_BUILDDIR/lib/libopenvswitch.la" | tr ' ' '\n' | grep -v '\.la$' | tr '\n' ' '`
  OVS_LIBS="$OVS_LIBS $ovs_extra_libs -lpthread"

  sed -e '/^#define PACKAGE/d' -e '/^#define VERSION/d' \
      "$OVS_BUILDDIR/config.h" > ovs-config.h.tmp
  if cmp -s ovs-config.h.tmp ovs-config.h; then
    rm -f ovs-config.h.tmp
  else
    mv ovs-config.h.tmp ovs-config.h
  fi

  AC_SUBST([OVS_SRCDIR])
  AC_SUBST([OVS_BUILDDIR])
  AC_SUBST([OVS_CPPFLAGS])
  AC_SUBST([OVS_LIBS])
])
