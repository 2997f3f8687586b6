# AX_CHECK_COMPILE_FLAG_SIMPLE(FLAG, ACTION-IF-OK): run ACTION when the C
# compiler accepts FLAG (with -Werror, so unknown warnings do not slip through).
AC_DEFUN([AX_CHECK_COMPILE_FLAG_SIMPLE], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  gust_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -Werror $1"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $2], [AC_MSG_RESULT([no])])
  CFLAGS=$gust_save_CFLAGS
])
