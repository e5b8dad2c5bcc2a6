# Imported targets for the libraries the project uses.  libspf2 and libopendmarc ship
# no pkg-config file; libetpan's .pc leaks a non-PIE link spec, so it is found by hand.
find_package(PkgConfig REQUIRED)
find_package(OpenSSL REQUIRED)
# msgfmt compiles the message catalogues in po/; xgettext refreshes the template.
find_package(Gettext REQUIRED)
find_program(XGETTEXT_EXECUTABLE xgettext)
pkg_check_modules(OPENDKIM REQUIRED IMPORTED_TARGET opendkim)
pkg_check_modules(UNBOUND REQUIRED IMPORTED_TARGET libunbound)
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(ESMTP REQUIRED IMPORTED_TARGET libesmtp-1.0)
if(MP_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

find_library(SPF2_LIBRARY NAMES spf2 REQUIRED)
find_path(SPF2_INCLUDE_DIR spf2/spf.h REQUIRED)
add_library(mp::spf2 UNKNOWN IMPORTED)
set_target_properties(mp::spf2 PROPERTIES IMPORTED_LOCATION "${SPF2_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${SPF2_INCLUDE_DIR}")

find_library(ETPAN_LIBRARY NAMES etpan REQUIRED)
find_path(ETPAN_INCLUDE_DIR libetpan/libetpan.h REQUIRED)
add_library(mp::etpan UNKNOWN IMPORTED)
set_target_properties(mp::etpan PROPERTIES IMPORTED_LOCATION "${ETPAN_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${ETPAN_INCLUDE_DIR}")
