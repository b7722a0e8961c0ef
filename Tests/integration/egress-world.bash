# The fake internet the egress tests run against (egress.bats, egress_live.bats): a
# `world` network namespace joined to the host by a veth pair, with HTTP and HTTPS
# servers on documentation addresses (198.51.100.2, 2001:db8:5::2: public as far as
# the address policy knows), a hosts mapping the proxy resolves names through
# (SAFEHOUSE_EGRESS_HOSTS), a policy allowing some of it ($POLICY), and the helpers
# that run sandboxes and clients in it. No traffic leaves the machine. Loaded after
# helpers.bash; it defines the file's setup and teardown.

setup() {
	common_setup
	W="shw$$"                  # the world's namespace
	VH="shwh$$" VW="shww$$"    # veth ends: host, world
	ip netns add "$W"
	ip link add "$VH" type veth peer name "$VW"
	ip link set "$VW" netns "$W"
	ip addr add 198.51.100.1/24 dev "$VH"
	ip -6 addr add 2001:db8:5::1/64 dev "$VH" nodad
	ip link set "$VH" up
	ip -n "$W" addr add 198.51.100.2/24 dev "$VW"
	ip -n "$W" -6 addr add 2001:db8:5::2/64 dev "$VW" nodad
	ip -n "$W" link set "$VW" up
	ip -n "$W" link set lo up

	WWW="$TEST_TMP/www"
	mkdir -p "$WWW"
	echo "hello from the world" >"$WWW/hello.txt"
	head -c 4194304 /dev/zero >"$WWW/big.bin"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/key.pem" -out "$TEST_TMP/cert.pem" \
		-subj /CN=www.test -days 1 -addext subjectAltName=DNS:www.test,DNS:other.test >/dev/null 2>&1
	cat >"$TEST_TMP/https.py" <<-'PY'
		import functools, http.server, ssl, sys
		d, cert, key = sys.argv[1:4]
		h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)
		s = http.server.ThreadingHTTPServer(("198.51.100.2", 443), h)
		c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(cert, key)
		s.socket = c.wrap_socket(s.socket, server_side=True)
		s.serve_forever()
	PY
	ip netns exec "$W" python3 -m http.server 80 --bind :: --directory "$WWW" >/dev/null 2>&1 &
	echo $! >"$TEST_TMP/http.pid"
	ip netns exec "$W" python3 "$TEST_TMP/https.py" "$WWW" "$TEST_TMP/cert.pem" "$TEST_TMP/key.pem" >/dev/null 2>&1 &
	echo $! >"$TEST_TMP/https.pid"
	local i
	for i in $(seq 50); do
		curl -s -o /dev/null http://198.51.100.2/hello.txt && curl -sk -o /dev/null https://198.51.100.2/hello.txt && break
		sleep 0.1
	done

	cat >"$TEST_TMP/hosts" <<-'EOF2'
		198.51.100.2 www.test other.test big.test ssh.test
		2001:db8:5::2 www6.test
		10.0.0.5 private.test
		169.254.169.254 meta.test
		198.51.100.2 rebind.test
		127.0.0.1 rebind.test
		198.51.100.77 twoaddr.test
		198.51.100.2 twoaddr.test
		198.18.0.9 bench.test
		192.0.0.9 ietf.test
	EOF2
	export SAFEHOUSE_EGRESS_HOSTS="$TEST_TMP/hosts"
	BB="$ROOTFS/bin/busybox" CERT="$TEST_TMP/cert.pem"
	[ "${SAFEHOUSE_BACKEND:-native}" = gvisor ] && BB=/bin/busybox CERT=/input/cert.pem
	# Where the proxies are inside the sandbox: its loopback on native; on gvisor the
	# warden's end of the link into gVisor's netstack (127.0.0.1 is gVisor's own
	# loopback there: README, the gVisor backend).
	PROXY_ADDR=127.0.0.1
	[ "${SAFEHOUSE_BACKEND:-native}" = gvisor ] && PROXY_ADDR=169.254.77.1
	POLICY="$TEST_TMP/egress.yaml"
	sed '/^network:/,$d' "$REPO/bundles/policies/default.yaml" >"$POLICY"
	cat >>"$POLICY" <<-'EOF2'
		network:
		  allow:
		    - www.test
		    - www6.test
		    - big.test:80
		    - private.test
		    - meta.test
		    - rebind.test
		    - twoaddr.test
		    - ssh.test:22
		    - bench.test
		    - ietf.test
	EOF2
}

teardown() {
	local f
	for f in http https sshd udp decider echo echo2; do
		[ -f "$TEST_TMP/$f.pid" ] && kill "$(cat "$TEST_TMP/$f.pid")" 2>/dev/null
	done
	ip link del "$VH" 2>/dev/null || true
	ip netns del "$W" 2>/dev/null || true
	common_teardown
}

# agent ARGS... -- CMD...: `agent run` with the egress policy under this test's root.
agent() {
	"$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$POLICY" --rootfs "$ROOTFS" --summary none "$@"
}

# ask REQUEST: send one raw request to the proxy from inside a sandbox; print the
# status line and the body's reason.
# sandbox ID: a sandbox that sleeps, for clients run in its network with `inside`;
# sets $pid (its init) and $agentpid.
sandbox() {
	SANDBOX_ID="$1"
	local input=()
	[ "${SAFEHOUSE_BACKEND:-native}" = gvisor ] && tools && input=(--input "$TEST_TMP/tools")
	agent --id "$1" "${input[@]}" -- sleep 60 &
	agentpid=$!
	pid=""
	local i
	for i in $(seq 100); do
		# Running (started): exec needs that under gvisor.
		pid="$("$RUNTIME" --root "$ROOT" state "$1" 2>/dev/null | jq -r 'select(.status == "running") | .pid // empty')"
		[ -n "$pid" ] && [ "$pid" != 0 ] && break
		sleep 0.1
	done
	[ -n "$pid" ]
}

# inside CMD...: CMD as a client in the last sandbox's network. Native: the host's
# tools in the sandbox's network namespace (nsenter). gvisor: there the namespace is
# the host's end of gVisor's netstack, with no address: CMD runs inside gVisor
# (`exec`), the host's curl (with its libraries, tools) taken in read-only as /input,
# so the client's packets go through gVisor's netstack as the sandbox's would.
# $BB is busybox for CMD, $CERT the test's certificate as CMD sees it.
inside() {
	if [ "${SAFEHOUSE_BACKEND:-native}" = gvisor ]; then
		"$RUNTIME" --root "$ROOT" exec "$SANDBOX_ID" env PATH=/input/bin:/bin:/usr/bin "$@"
	else
		nsenter -t "$pid" -n "$@"
	fi
}

# tools: $TEST_TMP/tools, for `inside` under gvisor: the host's curl, openssl, ssh, nc
# (OpenBSD's, for ssh's SOCKS ProxyCommand) and python3 with the libraries they link,
# each run through the host's loader from /input/bin, python's standard library, and
# the test's certificate and client key (0644: inside, the files belong to no
# mapped user, and ssh refuses only a key of its own user that others can read).
tools() {
	local t="$TEST_TMP/tools" bin lib loader
	[ -d "$t/bin" ] && return 0
	mkdir -p "$t/bin" "$t/lib" "$t/py/lib"
	loader="$(basename "$(ldd /usr/bin/curl | grep -o '/[^ ]*ld-linux[^ ]*')")"
	for bin in curl:/usr/bin/curl ssh:/usr/bin/ssh nc:/usr/bin/nc.openbsd python3:/usr/bin/python3.11 openssl:/usr/bin/openssl; do
		for lib in $(ldd "${bin#*:}" | grep -o '/[^ ]*'); do cp -L "$lib" "$t/lib/"; done
		cp "${bin#*:}" "$t/lib/${bin%%:*}.bin"
		printf '#!/bin/sh\nexec /input/lib/%s --library-path /input/lib /input/lib/%s.bin "$@"\n' "$loader" "${bin%%:*}" >"$t/bin/${bin%%:*}"
	done
	# python3 -I ignores PYTHONHOME: its home is given by the wrapper instead.
	printf '#!/bin/sh\nPYTHONHOME=/input/py exec /input/lib/%s --library-path /input/lib /input/lib/python3.bin -S "$@"\n' "$loader" >"$t/bin/python3"
	cp -a /usr/lib/python3.11 "$t/py/lib/"
	rm -rf "$t/py/lib/python3.11/test" "$t/py/lib/python3.11/site-packages" "$t/py/lib/python3.11/dist-packages"
	cp "$TEST_TMP/cert.pem" "$t/cert.pem"
	[ -f "$TEST_TMP/userkey" ] && cp "$TEST_TMP/userkey" "$t/userkey"
	chmod -R a+rX "$t"
	chmod a+x "$t"/bin/*
}

end_sandbox() {
	"$RUNTIME" --root "$ROOT" kill "$1" KILL || true
	wait "$agentpid" || true
}

ask() {
	agent -- sh -c "printf '$1' | timeout 5 nc $PROXY_ADDR 3128"
}
