// libcurl for static links: hack/build archives this file as libcurl.a in a directory
// it gives the linker. The MCP SDK imports FoundationNetworking (for its HTTP client
// transport and OAuth, which safehouse never uses); the static FoundationNetworking asks
// for -lcurl and references these functions, and Debian ships no static libcurl with
// its dependencies. So safehouse-mcp and safehouse-serve link as static executables;
// each function ends the process with a message, so a use of URLSession there fails at
// once and says why, never silently. Dynamic (debug) builds use the system's libcurl.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void curl_unavailable(const char *name) {
	char line[160];
	int n = snprintf(line, sizeof line,
			 "safehouse: %s: URLSession (libcurl) is not linked into this executable\n", name);
	if (n > 0) {
		ssize_t ignored = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		(void)ignored;
	}
	abort();
}

#define UNAVAILABLE(name) \
	void name(void); \
	void name(void) { curl_unavailable(#name); }

UNAVAILABLE(curl_easy_cleanup)
UNAVAILABLE(curl_easy_getinfo)
UNAVAILABLE(curl_easy_init)
UNAVAILABLE(curl_easy_pause)
UNAVAILABLE(curl_easy_setopt)
UNAVAILABLE(curl_easy_strerror)
UNAVAILABLE(curl_free)
UNAVAILABLE(curl_global_init)
UNAVAILABLE(curl_multi_add_handle)
UNAVAILABLE(curl_multi_assign)
UNAVAILABLE(curl_multi_cleanup)
UNAVAILABLE(curl_multi_info_read)
UNAVAILABLE(curl_multi_init)
UNAVAILABLE(curl_multi_remove_handle)
UNAVAILABLE(curl_multi_setopt)
UNAVAILABLE(curl_multi_socket_action)
UNAVAILABLE(curl_slist_append)
UNAVAILABLE(curl_slist_free_all)
UNAVAILABLE(curl_url)
UNAVAILABLE(curl_url_get)
UNAVAILABLE(curl_url_set)
UNAVAILABLE(curl_version)
UNAVAILABLE(curl_version_info)
