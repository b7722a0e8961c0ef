// CZlib: zlib's inflate for image layers (gzip), through a shim: inflateInit2 is a
// macro, which Swift does not import.
#ifndef CZLIB_H
#define CZLIB_H
#include <zlib.h>

// A stream that reads gzip (windowBits 15 + 16): Z_OK or zlib's error.
static inline int sh_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}
#endif
