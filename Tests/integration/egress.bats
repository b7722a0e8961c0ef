#!/usr/bin/env bats
# The egress allowlist proxy (issue 6), against a fake internet the test builds: a
# `world` network namespace joined to the host by a veth pair, with HTTP and HTTPS
# servers on documentation addresses (198.51.100.2, 2001:db8:5::2: public as far as
# the address policy knows), and a hosts mapping the proxy resolves names through
# (SAFEHOUSE_EGRESS_HOSTS). No traffic leaves the machine. Needs the real runtime.

load helpers

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
		198.51.100.2 www.test other.test big.test
		2001:db8:5::2 www6.test
		10.0.0.5 private.test
		169.254.169.254 meta.test
		198.51.100.2 rebind.test
		127.0.0.1 rebind.test
		198.51.100.77 twoaddr.test
		198.51.100.2 twoaddr.test
	EOF2
	export SAFEHOUSE_EGRESS_HOSTS="$TEST_TMP/hosts"
	POLICY="$TEST_TMP/egress.yaml"
	sed '/^network:/,$d' "$REPO/bundles/policies/default.yaml" >"$POLICY"
	# gvisor: the egress proxy needs runsc's host network, which runsc cannot start in a
	# user namespace (safehouse refuses the combination; README, gVisor backend).
	if [ "${SAFEHOUSE_BACKEND:-native}" = gvisor ]; then
		sed -i 's/^  userNamespace: true$/  userNamespace: false/' "$POLICY"
	fi
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
	EOF2
}

teardown() {
	local f
	for f in http https; do
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
ask() {
	agent -- sh -c "printf '$1' | timeout 5 nc 127.0.0.1 3128"
}

@test "egress: the process gets the proxy in its environment; only with an allowlist" {
	run agent -- sh -c 'echo "$HTTP_PROXY $HTTPS_PROXY $http_proxy $https_proxy $NO_PROXY"'
	[ "$status" -eq 0 ]
	[ "$output" = "http://127.0.0.1:3128 http://127.0.0.1:3128 http://127.0.0.1:3128 http://127.0.0.1:3128 localhost,127.0.0.1,::1" ]
	run "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --rootfs "$ROOTFS" --summary none -- sh -c 'echo "[$HTTP_PROXY]"; timeout 5 nc 127.0.0.1 3128 </dev/null'
	echo "$output"
	[[ "$output" == "[]"* ]]
	[[ "$output" == *"Connection refused"* || "$output" == *"Network is unreachable"* ]]
}

@test "egress: an allowed host is reached through the proxy with busybox wget (HTTP)" {
	run agent -- sh -c 'timeout 10 wget -q -O- http://www.test/hello.txt'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from the world" ]
}

@test "egress: HTTPS through CONNECT with the right server name works; every decision is audited" {
	local id="egress-$$-tls"
	agent --id "$id" -- sleep 20 &
	local agentpid=$! pid="" i
	for i in $(seq 50); do
		pid="$("$RUNTIME" --root "$ROOT" state "$id" 2>/dev/null | jq -r '.pid // empty')"
		[ -n "$pid" ] && [ "$pid" != 0 ] && break
		sleep 0.1
	done
	[ -n "$pid" ]
	# A TLS client in the sandbox's network namespace (the rootfs has none).
	run nsenter -t "$pid" -n curl -s --max-time 10 --cacert "$TEST_TMP/cert.pem" --proxy http://127.0.0.1:3128 https://www.test/hello.txt
	echo "$output"
	[ "$output" = "hello from the world" ]
	# A different server name inside a tunnel to an allowed host: cut before any byte
	# reaches the world.
	run nsenter -t "$pid" -n curl -s --max-time 10 -k --proxy http://127.0.0.1:3128 --connect-to other.test:443:www.test:443 https://other.test/hello.txt
	[ "$status" -ne 0 ]
	[ -z "$output" ]
	# Not TLS inside the tunnel (plain HTTP naming another Host): cut.
	run nsenter -t "$pid" -n sh -c "printf 'CONNECT www.test:80 HTTP/1.1\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: evil.test\r\n\r\n' | timeout 5 $ROOTFS/bin/busybox nc 127.0.0.1 3128"
	echo "$output"
	[[ "$output" == *"200 Connection established"* ]]
	[[ "$output" != *"hello from the world"* ]]
	# The host's namespace cannot reach the proxy.
	! curl -s --max-time 2 -o /dev/null http://127.0.0.1:3128/
	# One record per decision, in the sandbox's state directory while it lives.
	local audit
	audit="$(cat "$ROOT/$id/egress.jsonl")"
	echo "$audit"
	echo "$audit" | jq -e -s 'map(select(.decision == "allowed" and .method == "CONNECT" and .host == "www.test" and .address == "198.51.100.2" and .bytesDown > 0)) | length == 1'
	echo "$audit" | jq -e -s 'map(select(.decision == "denied" and .reason == "TLS server name other.test does not match CONNECT host www.test")) | length == 1'
	echo "$audit" | jq -e -s 'map(select(.decision == "denied" and (.reason | startswith("tunnel to www.test is not TLS")))) | length == 1'
	"$RUNTIME" --root "$ROOT" kill "$id" KILL || true
	wait "$agentpid" || true
}

@test "egress: a denied host, a disallowed port and a mismatched Host get 403 naming the rule" {
	run agent -- sh -c 'timeout 10 wget -q -O- http://other.test/hello.txt; echo "rc=$?"'
	echo "$output"
	[[ "$output" == *"403"* ]]
	[[ "$output" == *"rc=1"* ]]
	run ask 'GET http://other.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n'
	echo "$output"
	[[ "$output" == "HTTP/1.1 403 Forbidden"* ]]
	[[ "$output" == *"safehouse egress: other.test matches no rule of network.allow"* ]]
	run ask 'CONNECT www.test:22 HTTP/1.1\r\n\r\n'
	[[ "$output" == *"403 Forbidden"* ]]
	[[ "$output" == *'www.test port 22 is not allowed: rule "www.test" allows ports 80,443'* ]]
	run ask 'CONNECT big.test:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *'big.test port 443 is not allowed: rule "big.test:80" allows ports 80'* ]]
	run ask 'GET http://www.test/hello.txt HTTP/1.1\r\nHost: other.test\r\n\r\n'
	[[ "$output" == *"403 Forbidden"* ]]
	[[ "$output" == *'Host "other.test" does not match the request target www.test'* ]]
}

@test "egress: private, metadata and loopback destinations are refused, by address and by name" {
	run ask 'CONNECT 10.0.0.1:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *"403 Forbidden"* ]]
	run ask 'CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n'
	[[ "$output" == *"403 Forbidden"* ]]
	run ask 'CONNECT private.test:443 HTTP/1.1\r\n\r\n'
	echo "$output"
	[[ "$output" == *'10.0.0.5 (resolved from private.test) is a private address (10.0.0.0/8); rule "private.test" does not name it exactly'* ]]
	run ask 'GET http://meta.test/latest/meta-data HTTP/1.1\r\nHost: meta.test\r\n\r\n'
	[[ "$output" == *'169.254.169.254 (resolved from meta.test) is a metadata address'* ]]
	# One loopback address among the resolved ones refuses the name (rebinding).
	run ask 'CONNECT rebind.test:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *'127.0.0.1 (resolved from rebind.test) is a loopback address'* ]]
	run ask 'CONNECT [::1]:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *"403 Forbidden"* ]]
}

@test "egress: direct connections to the world fail (IPv4, IPv6, raw socket)" {
	run agent -- sh -c 'timeout 5 wget -q -O- http://198.51.100.2/hello.txt; echo "v4=$?"; timeout 5 wget -q -O- "http://[2001:db8:5::2]/hello.txt"; echo "v6=$?"; timeout 5 ping -c1 -W2 198.51.100.2; echo "ping=$?"; ip route 2>/dev/null; cat /proc/net/route'
	echo "$output"
	# Without the proxy (NO_PROXY lists only loopback, so unset the proxy first).
	run agent -- sh -c 'unset http_proxy HTTP_PROXY; timeout 5 wget -q -O- http://198.51.100.2/hello.txt; echo "v4=$?"; timeout 5 wget -q -O- "http://[2001:db8:5::2]/hello.txt"; echo "v6=$?"; timeout 5 ping -c1 -W2 198.51.100.2 >/dev/null 2>&1; echo "ping=$?"'
	echo "$output"
	[[ "$output" == *"v4=1"* ]]
	[[ "$output" == *"v6=1"* ]]
	[[ "$output" != *"ping=0"* ]]
	[[ "$output" != *"hello from the world"* ]]
	# Through the proxy, the literal address is not in the allowlist either.
	run ask 'GET http://198.51.100.2/hello.txt HTTP/1.1\r\nHost: 198.51.100.2\r\n\r\n'
	[[ "$output" == *"198.51.100.2 matches no rule of network.allow"* ]]
}

@test "egress: IPv6 destinations through the proxy; the proxy ends with the sandbox" {
	run agent -- sh -c 'timeout 10 wget -q -O- http://www6.test/hello.txt'
	echo "$output"
	[ "$output" = "hello from the world" ]
	# No warden (and so no proxy) outlives its sandbox.
	! pgrep -f "safehouse-warden --state-dir $ROOT/" >/dev/null
}

@test "egress: the byte quota cuts a download; the idle timeout ends a silent connection" {
	sed 's/^network:/network:\n  maxBytes: 1Mi\n  idleTimeout: 1s/' "$POLICY" >"$TEST_TMP/quota.yaml"
	POLICY="$TEST_TMP/quota.yaml"
	# 4 MiB asked for, 1 MiB allowed each way: the transfer is cut short.
	run agent -- sh -c 'timeout 20 wget -q -O /tmp/big http://big.test/big.bin; echo "rc=$?"; wc -c </tmp/big'
	echo "$output"
	[[ "$output" == *"rc=1"* ]]
	local got
	got="$(echo "$output" | tail -n1)"
	[ "$got" -lt 4194304 ]
	[ "$got" -le 1200000 ]
	# A client that says nothing is let go after the idle timeout (1 s), with 408.
	run agent -- sh -c 'sleep 3 | timeout 10 nc 127.0.0.1 3128; echo "rc=$?"'
	echo "$output"
	[[ "$output" == *"408 Request Timeout"* ]]
	[[ "$output" == *"safehouse egress: idle timeout"* ]]
}

@test "egress: agent run's summary carries every egress decision" {
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$POLICY" --rootfs "$ROOTFS" --summary json -- \
		sh -c 'timeout 10 wget -q -O- http://www.test/hello.txt; timeout 10 wget -q -O- http://other.test/ 2>/dev/null; true'
	[ "$output" = "hello from the world" ]
	summary="$(echo "$stderr" | tail -n1)"
	echo "$summary"
	echo "$summary" | jq -e '.egress | length == 2'
	echo "$summary" | jq -e '.egress[0] | .decision == "allowed" and .host == "www.test" and .port == 80 and .address == "198.51.100.2" and .rule == "www.test" and .bytesDown > 0'
	echo "$summary" | jq -e '.egress[1] | .decision == "denied" and .host == "other.test" and .reason == "other.test matches no rule of network.allow"'
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$POLICY" --rootfs "$ROOTFS" -- \
		sh -c 'timeout 10 wget -q -O- http://other.test/ 2>/dev/null; true'
	echo "$stderr" | grep -qx 'safehouse: egress: 0 allowed, 1 refused or failed'
	echo "$stderr" | grep -qx 'safehouse:   other.test:80: other.test matches no rule of network.allow'
}

@test "egress: a pipelined second request is not relayed; a dead address falls back to the name's next checked one" {
	# The second request names a Host that was never checked: dropped, recorded.
	local id="egress-$$-pipe"
	agent --id "$id" -- sleep 20 &
	local agentpid=$! pid="" i
	for i in $(seq 50); do
		pid="$("$RUNTIME" --root "$ROOT" state "$id" 2>/dev/null | jq -r '.pid // empty')"
		[ -n "$pid" ] && [ "$pid" != 0 ] && break
		sleep 0.1
	done
	run nsenter -t "$pid" -n sh -c "printf 'GET http://www.test/hello.txt HTTP/1.1\\r\\nHost: www.test\\r\\n\\r\\nGET /hello.txt HTTP/1.1\\r\\nHost: evil.test\\r\\n\\r\\n' | timeout 5 $ROOTFS/bin/busybox nc 127.0.0.1 3128"
	echo "$output"
	[ "$(echo "$output" | grep -c '^HTTP/')" = 1 ]
	[ "$(echo "$output" | grep -c 'hello from the world')" = 1 ]
	jq -e -s 'map(select(.host == "www.test" and .reason == "bytes after the request were dropped")) | length == 1' "$ROOT/$id/egress.jsonl"
	# 198.51.100.77 does not answer (nothing has it): the proxy tries 198.51.100.2 next.
	run nsenter -t "$pid" -n curl -s --max-time 30 --proxy http://127.0.0.1:3128 http://twoaddr.test/hello.txt
	echo "$output"
	[ "$output" = "hello from the world" ]
	"$RUNTIME" --root "$ROOT" kill "$id" KILL || true
	wait "$agentpid" || true
}
