// Built only into the prebuilt addon (NCOD_STATIC_DEPS=ON), where OpenBLAS is linked statically.
//
// Debian's static OpenBLAS needs exactly one function of the Fortran runtime: LAPACK's dormbr/dormlq (reached
// from dgesdd) join option strings with it. Debian's libgfortran.a cannot go into a shared object (its async
// I/O unit uses local-exec thread-local storage, which ld refuses with -shared), and linking libgfortran.so
// would bring the dependency back. So this is that function, with the semantics of GCC 12's
// libgfortran/intrinsics/string_intrinsics_inc.c: copy s1 then s2 into dest, truncate to destlen, pad with
// blanks. The package test checks that the prebuild leaves no other non-glibc symbol undefined.
#include <stddef.h>
#include <string.h>

void _gfortran_concat_string(size_t destlen, char *dest, size_t len1, const char *s1, size_t len2, const char *s2) {
  if (len1 >= destlen) {
    memcpy(dest, s1, destlen);
    return;
  }
  memcpy(dest, s1, len1);
  dest += len1;
  destlen -= len1;
  if (len2 >= destlen) {
    memcpy(dest, s2, destlen);
    return;
  }
  memcpy(dest, s2, len2);
  memset(dest + len2, ' ', destlen - len2);
}
