#ifndef CURL_UNAVAILABLE_H
#define CURL_UNAVAILABLE_H

// Nothing to call: the target exists for its definitions (curl_unavailable.c), which the
// linker uses in place of libcurl in the executables that link the MCP SDK.

#endif
