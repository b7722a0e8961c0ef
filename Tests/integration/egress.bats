#!/usr/bin/env bats
# The egress allowlist proxy and transparent egress, DNS and SOCKS5,
# against a fake internet the test builds: a
# `world` network namespace joined to the host by a veth pair, with HTTP and HTTPS
# servers on documentation addresses (198.51.100.2, 2001:db8:5::2: public as far as
# the address policy knows), and a hosts mapping the proxy resolves names through
# (SAFEHOUSE_EGRESS_HOSTS). No traffic leaves the machine. Needs the real runtime.

load helpers
load egress-world

@test "egress: the process gets the proxy in its environment; only with an allowlist" {
	run agent -- sh -c 'echo "$HTTP_PROXY $HTTPS_PROXY $http_proxy $https_proxy $NO_PROXY $ALL_PROXY $all_proxy"'
	[ "$status" -eq 0 ]
	local p="$PROXY_ADDR"
	[ "$output" = "http://$p:3128 http://$p:3128 http://$p:3128 http://$p:3128 localhost,127.0.0.1,::1 socks5h://$p:1080 socks5h://$p:1080" ]
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
	local id="egress-$$-tls" pid agentpid
	sandbox "$id"
	# A TLS client in the sandbox's network namespace (the rootfs has none).
	run inside curl -s --max-time 10 --cacert "$CERT" --proxy "http://$PROXY_ADDR:3128" https://www.test/hello.txt
	echo "$output"
	[ "$output" = "hello from the world" ]
	# A different server name inside a tunnel to an allowed host: cut before any byte
	# reaches the world.
	run inside curl -s --max-time 10 -k --proxy "http://$PROXY_ADDR:3128" --connect-to other.test:443:www.test:443 https://other.test/hello.txt
	[ "$status" -ne 0 ]
	[ -z "$output" ]
	# Not TLS inside the tunnel (plain HTTP naming another Host): cut.
	run inside sh -c "printf 'CONNECT www.test:80 HTTP/1.1\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: evil.test\r\n\r\n' | timeout 5 $BB nc $PROXY_ADDR 3128"
	echo "$output"
	[[ "$output" == *"200 Connection established"* ]]
	[[ "$output" != *"hello from the world"* ]]
	# The host's namespace cannot reach the proxy.
	! curl -s --max-time 2 -o /dev/null http://127.0.0.1:3128/ || false
	# One record per decision, in the sandbox's state directory while it lives.
	local audit
	audit="$(cat "$ROOT/$id/egress.jsonl")"
	echo "$audit"
	echo "$audit" | jq -e -s 'map(select(.decision == "allowed" and .method == "CONNECT" and .host == "www.test" and .address == "198.51.100.2" and .bytesDown > 0)) | length == 1'
	echo "$audit" | jq -e -s 'map(select(.decision == "denied" and .reason == "TLS server name other.test does not match CONNECT host www.test")) | length == 1'
	echo "$audit" | jq -e -s 'map(select(.decision == "denied" and (.reason | startswith("tunnel to www.test is not TLS")))) | length == 1'
	end_sandbox "$id"
}

@test "egress: a denied host, a disallowed port and a mismatched Host get 403 naming the rule" {
	run agent -- sh -c 'timeout 10 wget -q -O- http://other.test/hello.txt; echo "rc=$?"'
	echo "$output"
	[[ "$output" == *"403"* ]]
	[[ "$output" == *"rc=1"* ]]
	run ask 'GET http://other.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n'
	echo "$output"
	[[ "$output" == "HTTP/1.1 403 safehouse: other.test matches no rule of network.allow"* ]]
	[[ "$output" == *"safehouse egress: other.test matches no rule of network.allow"* ]]
	run ask 'CONNECT www.test:22 HTTP/1.1\r\n\r\n'
	[[ "$output" == *"HTTP/1.1 403 safehouse: "* ]]
	[[ "$output" == *'www.test port 22 is not allowed: rule "www.test" allows ports 80,443'* ]]
	run ask 'CONNECT big.test:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *'big.test port 443 is not allowed: rule "big.test:80" allows ports 80'* ]]
	run ask 'GET http://www.test/hello.txt HTTP/1.1\r\nHost: other.test\r\n\r\n'
	[[ "$output" == *"HTTP/1.1 403 safehouse: "* ]]
	[[ "$output" == *'Host "other.test" does not match the request target www.test'* ]]
}

@test "egress: private, metadata and loopback destinations are refused, by address and by name" {
	run ask 'CONNECT 10.0.0.1:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *"HTTP/1.1 403 safehouse: "* ]]
	run ask 'CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n'
	[[ "$output" == *"HTTP/1.1 403 safehouse: "* ]]
	run ask 'CONNECT private.test:443 HTTP/1.1\r\n\r\n'
	echo "$output"
	[[ "$output" == *'10.0.0.5 (resolved from private.test) is a private address (10.0.0.0/8); rule "private.test" does not name it exactly'* ]]
	run ask 'GET http://meta.test/latest/meta-data HTTP/1.1\r\nHost: meta.test\r\n\r\n'
	[[ "$output" == *'169.254.169.254 (resolved from meta.test) is a metadata address'* ]]
	# One loopback address among the resolved ones refuses the name (rebinding).
	run ask 'CONNECT rebind.test:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *'127.0.0.1 (resolved from rebind.test) is a loopback address'* ]]
	run ask 'CONNECT [::1]:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *"HTTP/1.1 403 safehouse: "* ]]
	# The IANA special-purpose ranges beyond the private ones: a name that resolves
	# into benchmarking (198.18.0.0/15) or IETF protocol assignments (192.0.0.0/24).
	run ask 'CONNECT bench.test:443 HTTP/1.1\r\n\r\n'
	echo "$output"
	[[ "$output" == *'198.18.0.9 (resolved from bench.test) is a benchmarking address (198.18.0.0/15)'* ]]
	run ask 'CONNECT ietf.test:443 HTTP/1.1\r\n\r\n'
	[[ "$output" == *'192.0.0.9 (resolved from ietf.test) is an IETF protocol assignment address (192.0.0.0/24)'* ]]
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
	! pgrep -f "safehouse-warden --state-dir $ROOT/" >/dev/null || false
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
	# The quota spent is a limit hit: in the summary and as a limit record.
	local id="quota-$$"
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$POLICY" \
		--rootfs "$ROOTFS" --summary json --id "$id" -- sh -c 'timeout 20 wget -q -O /dev/null http://big.test/big.bin; true'
	echo "$stderr" | tail -n1 | jq -e '.limitsHit == ["egress (the byte quota of 1Mi each way was spent)"]'
	"$RUNTIME" audit show "$id" --kind limit --format json | jq -e -s 'map(.details.limit) == ["egress (the byte quota of 1Mi each way was spent)"]'
	# A client that says nothing is let go after the idle timeout (1 s), with 408.
	run agent -- sh -c "sleep 3 | timeout 10 nc $PROXY_ADDR 3128; echo \"rc=\$?\""
	echo "$output"
	[[ "$output" == *"HTTP/1.1 408 safehouse: idle timeout"* ]]
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
	local id="egress-$$-pipe" pid agentpid
	sandbox "$id"
	run inside sh -c "printf 'GET http://www.test/hello.txt HTTP/1.1\\r\\nHost: www.test\\r\\n\\r\\nGET /hello.txt HTTP/1.1\\r\\nHost: evil.test\\r\\n\\r\\n' | timeout 5 $BB nc $PROXY_ADDR 3128"
	echo "$output"
	[ "$(echo "$output" | grep -c '^HTTP/')" = 1 ]
	[ "$(echo "$output" | grep -c 'hello from the world')" = 1 ]
	jq -e -s 'map(select(.host == "www.test" and .reason == "bytes after the request were dropped")) | length == 1' "$ROOT/$id/egress.jsonl"
	# 198.51.100.77 does not answer (nothing has it): the proxy tries 198.51.100.2 next.
	run inside curl -s --max-time 30 --proxy "http://$PROXY_ADDR:3128" http://twoaddr.test/hello.txt
	echo "$output"
	[ "$output" = "hello from the world" ]
	end_sandbox "$id"
}

# --- Transparent egress, DNS and SOCKS5 -----------------------------------------

# noproxy CMD: CMD in a sandbox with every proxy variable unset; the egress summary
# (one record per decision) is left in $summary, CMD's output in $output.
noproxy() {
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$POLICY" --rootfs "$ROOTFS" --summary json -- \
		sh -c "unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY; $1"
	summary="$(echo "$stderr" | tail -n1)"
	echo "$output"
	echo "$summary" | jq -c '.egress[]'
}

# records FILTER: how many of the last summary's egress records FILTER selects.
records() {
	echo "$summary" | jq "[.egress[] | select($1)] | length"
}

@test "transparent: with no proxy settings, wget and nc reach an allowed name and are refused for a denied one" {
	# The sandbox's audit log, to find every decision there too.
	printf 'audit: %s\n' "$TEST_TMP/audit.jsonl" >>"$POLICY"
	noproxy 'timeout 10 wget -q -O- http://www.test/hello.txt; echo "wget=$?"
		printf "GET /hello.txt HTTP/1.0\r\nHost: www.test\r\n\r\n" | timeout 5 nc www.test 80 | tail -n1; echo "nc=$?"
		timeout 5 wget -q -O- http://other.test/hello.txt; echo "denied=$?"
		printf "GET /hello.txt HTTP/1.0\r\nHost: other.test\r\n\r\n" | timeout 5 nc www.test 80; echo "fronted=$?"'
	[ "$status" -eq 0 ]
	[[ "$output" == *"wget=0"* ]]
	[[ "$output" == *"denied=1"* ]]
	# Two answers: wget's and nc's; nothing for other.test by name or by Host.
	[ "$(echo "$output" | grep -c 'hello from the world')" = 2 ]
	# One record per decision: the two connections allowed as www.test, the request
	# for other.test sent to www.test's address refused by its Host, the name
	# other.test refused by the resolver (each query its own record).
	[ "$(records '.method == "TCP" and .decision == "allowed" and .host == "www.test" and .port == 80 and .address == "198.51.100.2" and .rule == "www.test" and .bytesDown > 0')" = 2 ]
	[ "$(records '.method == "TCP" and .decision == "denied" and .host == "other.test" and .reason == "other.test matches no rule of network.allow"')" = 1 ]
	[ "$(records '.method == "TCP"')" = 3 ]
	[ "$(records '.method == "DNS" and .decision == "denied" and .host == "other.test" and .reason == "other.test matches no rule of network.allow"')" -ge 1 ]
	[ "$(records '.method == "DNS" and .decision == "allowed" and .host == "www.test" and .address == "198.51.100.2"')" -ge 1 ]
	# Each decision is also one record of the hash-chained audit log, in order.
	"$RUNTIME" audit verify "$TEST_TMP/audit.jsonl"
	[ "$(jq -c -S -s 'map(select(.kind == "egress") | .details.decision)' "$TEST_TMP/audit.jsonl")" = "$(echo "$summary" | jq -c -S '.egress')" ]
	# IPv6: a name with only an AAAA answer, captured on [::1] (IP6T_SO_ORIGINAL_DST).
	noproxy 'timeout 10 wget -q -O- http://www6.test/hello.txt'
	[ "$output" = "hello from the world" ]
	[ "$(records '.method == "TCP" and .decision == "allowed" and .host == "www6.test" and .address == "2001:db8:5::2"')" = 1 ]
	[ "$(records '.method == "DNS" and .host == "www6.test" and .address == "2001:db8:5::2"')" = 1 ]
	# As through the proxy: one request per connection; a pipelined second one, whose
	# Host was never checked, does not reach the server.
	noproxy 'printf "GET /hello.txt HTTP/1.1\r\nHost: www.test\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: evil.test\r\n\r\n" | timeout 5 nc www.test 80'
	[ "$(echo "$output" | grep -c '^HTTP/')" = 1 ]
	[ "$(records '.method == "TCP" and .host == "www.test" and .reason == "bytes after the request were dropped"')" = 1 ]
}

@test "transparent: the resolver file is no change of the sandbox's and never reaches the image" {
	run --separate-stderr "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$POLICY" --rootfs "$ROOTFS" --summary json -- \
		sh -c 'cat /etc/resolv.conf 2>/dev/null; true'
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	# native: no resolv.conf (libc asks 127.0.0.1, which the capture answers); gvisor:
	# the warden's address, in a read-only layer of the root under the sandbox's writes.
	if [ "${SAFEHOUSE_BACKEND:-native}" = gvisor ]; then
		[ "$output" = "nameserver 169.254.77.1" ]
	else
		[ -z "$output" ]
	fi
	echo "$stderr" | tail -n1 | jq -e '.changes == []'
	[ ! -e "$ROOTFS/etc/resolv.conf" ]
}

@test "transparent: nslookup answers an allowed name, NXDOMAIN otherwise; TXT and oversized names are refused; no other UDP leaves" {
	# A UDP listener in the world: whatever reaches it is written to a file.
	ip netns exec "$W" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.51.100.2", 9999))
while True:
    d, a = s.recvfrom(2048); open(sys.argv[1], "ab").write(d)' "$TEST_TMP/udp.got" &
	echo $! >"$TEST_TMP/udp.pid"
	noproxy 'nslookup www.test; echo "ok=$?"; nslookup other.test; echo "nx=$?"; nslookup -type=txt www.test; echo "txt=$?"
		nslookup www.test 198.51.100.2; echo "elsewhere=$?"
		echo leak | nc -u -w1 198.51.100.2 9999; echo leak | nc -u -w1 198.51.100.2 53; true'
	[[ "$output" == *"ok=0"* ]]
	echo "$output" | grep -q 'Address: 198.51.100.2'
	[[ "$output" == *"can't find other.test: NXDOMAIN"* ]]
	[[ "$output" == *"nx=1"* ]]
	[[ "$output" == *"can't find www.test: REFUSED"* ]]
	[[ "$output" == *"txt=1"* ]]
	# A query sent to another server is answered by the warden all the same.
	[[ "$output" == *"elsewhere=0"* ]]
	[ "$(records '.method == "DNS" and .decision == "denied" and .reason == "TXT queries are refused (www.test)"')" = 1 ]
	sleep 0.5
	[ ! -s "$TEST_TMP/udp.got" ]
	# A label over 63 bytes (a length byte DNS does not allow: the shape of tunnelling
	# that pushes past the limits) and an ANY query, sent raw from the sandbox's
	# namespace: REFUSED (rcode 5) and recorded.
	sandbox "egress-$$-dns"
	mkdir -p "$TEST_TMP/tools"
	cat >"$TEST_TMP/tools/rawdns.py" <<-'PY'
		import socket, struct, sys
		def ask(q):
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
		    s.sendto(q, (sys.argv[1], 53)); return s.recv(512)
		head = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
		long = head + bytes([70]) + b"a" * 70 + b"\x04test\x00" + struct.pack("!HH", 1, 1)
		anyq = head + b"\x03www\x04test\x00" + struct.pack("!HH", 255, 1)
		for q in (long, anyq):
		    r = ask(q); print(hex(struct.unpack("!H", r[:2])[0]), r[3] & 0xF)
		# DNS over TCP to any address (captured, answered by the warden): two queries
		# on one connection, then the client's end.
		t = socket.create_connection(("203.0.113.53", 53), timeout=5)
		for name in (b"\x03www\x04test\x00", b"\x05other\x04test\x00"):
		    q = head + name + struct.pack("!HH", 1, 1); t.sendall(struct.pack("!H", len(q)) + q)
		t.shutdown(socket.SHUT_WR)
		data = b""
		while True:
		    c = t.recv(4096)
		    if not c: break
		    data += c
		while data:
		    n = struct.unpack("!H", data[:2])[0]; r = data[2:2 + n]; data = data[2 + n:]
		    print("tcp", r[3] & 0xF, ".".join(map(str, r[-4:])) if r[7] else "-")
	PY
	local script="$TEST_TMP/tools/rawdns.py"
	[ "${SAFEHOUSE_BACKEND:-native}" = gvisor ] && script=/input/rawdns.py
	# The resolver: 127.0.0.1 on native; on gvisor the warden's link address (that
	# loopback is gVisor's own; /etc/resolv.conf names the warden).
	run inside python3 "$script" "$PROXY_ADDR"
	echo "$output"
	[ "$output" = "0x1234 5
0x1234 5
tcp 0 198.51.100.2
tcp 3 -" ]
	local audit="$ROOT/egress-$$-dns/egress.jsonl"
	cat "$audit"
	jq -e -s 'map(select(.method == "DNS" and .reason == "label of 70 bytes (at most 63)")) | length == 1' "$audit"
	jq -e -s 'map(select(.method == "DNS" and .reason == "ANY queries are refused (www.test)")) | length == 1' "$audit"
	# Over TCP: one record per query, none for the connection.
	jq -e -s 'map(select(.method == "DNS" and .host == "www.test" and .decision == "allowed")) | length == 1' "$audit"
	jq -e -s 'map(select(.method == "DNS" and .host == "other.test" and .decision == "denied")) | length == 1' "$audit"
	jq -e -s 'map(select(.method == "TCP")) | length == 0' "$audit"
	end_sandbox "egress-$$-dns"
}

@test "transparent: direct connections to a literal private, metadata or unlisted address are reset at once" {
	noproxy 'timeout 5 wget -q -O- http://10.0.0.5/; echo "private=$?"; timeout 5 wget -q -O- http://169.254.169.254/latest/; echo "meta=$?"
		timeout 5 wget -q -O- "http://[2001:db8:5::2]/hello.txt"; echo "v6=$?"; echo x | timeout 5 nc 198.51.100.2 2222; echo "port=$?"'
	[[ "$output" == *"private=1"* ]]
	[[ "$output" == *"meta=1"* ]]
	[[ "$output" == *"v6=1"* ]]
	# Reset (RST), not a timeout or an HTTP answer (wget says so on stderr).
	echo "$stderr"
	# (nc may report the reset too, on its write: only wget's three are counted.)
	[ "$(echo "$stderr" | grep -c '^wget: .*Connection reset by peer')" = 3 ]
	[[ "$output" != *"hello from the world"* ]]
	[ "$(records '.method == "TCP" and .decision == "denied" and .host == "10.0.0.5" and .port == 80 and .reason == "10.0.0.5 matches no rule of network.allow"')" = 1 ]
	[ "$(records '.method == "TCP" and .decision == "denied" and .host == "169.254.169.254"')" = 1 ]
	[ "$(records '.method == "TCP" and .decision == "denied" and .host == "[2001:db8:5::2]"')" = 1 ]
	[ "$(records '.method == "TCP" and .decision == "denied" and .host == "198.51.100.2" and .port == 2222')" = 1 ]
	[ "$(records '.method == "TCP"')" = 4 ]
}

@test "transparent: HTTPS is judged by its server name; an allowed name cannot be pointed at another address" {
	sandbox "egress-$$-sni"
	# curl from the host, in the sandbox's namespace, no proxy, no DNS (--resolve).
	run inside curl -s --noproxy '*' --max-time 10 --cacert "$CERT" --resolve www.test:443:198.51.100.2 https://www.test/hello.txt
	echo "$output"
	[ "$output" = "hello from the world" ]
	# Another name at the same (allowed) address: reset before a byte reaches it.
	run inside curl -s --noproxy '*' --max-time 10 -k --resolve other.test:443:198.51.100.2 https://other.test/hello.txt
	[ "$status" -ne 0 ]
	[ -z "$output" ]
	# The allowed name sent to an address it does not resolve to.
	run inside curl -s --noproxy '*' --max-time 10 -k --resolve www.test:443:198.51.100.9 https://www.test/hello.txt
	[ "$status" -ne 0 ]
	local audit="$ROOT/egress-$$-sni/egress.jsonl"
	cat "$audit"
	jq -e -s 'map(select(.method == "TCP" and .decision == "allowed" and .host == "www.test" and .port == 443 and .bytesDown > 0)) | length == 1' "$audit"
	jq -e -s 'map(select(.method == "TCP" and .decision == "denied" and .host == "other.test" and .reason == "other.test matches no rule of network.allow")) | length == 1' "$audit"
	jq -e -s 'map(select(.method == "TCP" and .decision == "denied" and .reason == "198.51.100.9 is not an address of www.test")) | length == 1' "$audit"
	end_sandbox "egress-$$-sni"
}

@test "SOCKS5: ssh reaches an allowed host:22 through ALL_PROXY's SOCKS5 and is refused on another port" {
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/userkey"
	cp "$TEST_TMP/userkey.pub" "$TEST_TMP/authorized_keys"
	cat >"$TEST_TMP/sshd_config" <<-EOF2
		Port 22
		Port 2222
		ListenAddress 198.51.100.2
		HostKey $TEST_TMP/hostkey
		AuthorizedKeysFile $TEST_TMP/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		StrictModes no
		UsePAM no
		PidFile $TEST_TMP/sshd.pidfile
	EOF2
	mkdir -p /run/sshd
	ip netns exec "$W" /usr/sbin/sshd -D -e -f "$TEST_TMP/sshd_config" 2>"$TEST_TMP/sshd.log" &
	echo $! >"$TEST_TMP/sshd.pid"
	local i
	for i in $(seq 50); do nc -z -w1 198.51.100.2 22 && nc -z -w1 198.51.100.2 2222 && break; sleep 0.1; done
	sandbox "egress-$$-socks"
	# The sandbox's own environment names the SOCKS proxy.
	# (on gvisor $pid is runsc's sandbox process: a process exec'd in the sandbox gets
	# the container's environment)
	if [ "${SAFEHOUSE_BACKEND:-native}" = gvisor ]; then
		inside env | grep -qx "ALL_PROXY=socks5h://$PROXY_ADDR:1080"
	else
		grep -qz '^ALL_PROXY=socks5h://127.0.0.1:1080$' "/proc/$pid/environ"
	fi
	local key="$TEST_TMP/userkey" nc=nc
	[ "${SAFEHOUSE_BACKEND:-native}" = gvisor ] && key=/input/userkey nc=/input/bin/nc
	local ssh=(ssh -F none -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
		-o LogLevel=ERROR -o ConnectTimeout=10 -o "ProxyCommand=$nc -X 5 -x $PROXY_ADDR:1080 %h %p")
	run inside timeout 20 "${ssh[@]}" root@ssh.test echo ssh-ok
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "ssh-ok" ]
	run inside timeout 20 "${ssh[@]}" -p 2222 root@ssh.test echo ssh-ok
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" != *"ssh-ok"* ]]
	# curl speaks SOCKS5 too (names resolved by the warden: socks5h).
	run inside curl -s --max-time 10 --proxy "socks5h://$PROXY_ADDR:1080" http://www.test/hello.txt
	[ "$output" = "hello from the world" ]
	local audit="$ROOT/egress-$$-socks/egress.jsonl"
	cat "$audit"
	jq -e -s 'map(select(.method == "SOCKS5" and .decision == "allowed" and .host == "ssh.test" and .port == 22 and .address == "198.51.100.2" and .rule == "ssh.test:22" and .bytesDown > 0)) | length == 1' "$audit"
	jq -e -s 'map(select(.method == "SOCKS5" and .decision == "denied" and .host == "ssh.test" and .port == 2222 and .reason == "ssh.test port 2222 is not allowed: rule \"ssh.test:22\" allows ports 22")) | length == 1' "$audit"
	jq -e -s 'map(select(.method == "SOCKS5" and .decision == "allowed" and .host == "www.test" and .port == 80)) | length == 1' "$audit"
	[ "$(jq -s length "$audit")" = 3 ]
	end_sandbox "egress-$$-socks"
}

@test "network.mode: explicit has no capture (no route, no resolver); transparent names no proxy" {
	sed 's/^network:/network:\n  mode: explicit/' "$POLICY" >"$TEST_TMP/explicit.yaml"
	POLICY="$TEST_TMP/explicit.yaml"
	noproxy 'timeout 5 wget -q -O- http://198.51.100.2/hello.txt; echo "direct=$?"; nslookup www.test; echo "dns=$?"'
	[[ "$output" == *"direct=1"* ]]
	[[ "$output" == *"dns=1"* ]]
	[[ "$output" != *"reset by peer"* ]]
	[ "$(echo "$summary" | jq '.egress | length')" = 0 ]
	sed 's/^network:/network:\n  mode: transparent/' "$TEST_TMP/egress.yaml" >"$TEST_TMP/transparent.yaml"
	POLICY="$TEST_TMP/transparent.yaml"
	run agent -- sh -c 'echo "[$HTTP_PROXY$ALL_PROXY]"; timeout 10 wget -q -O- http://www.test/hello.txt; echo x | timeout 3 nc '"$PROXY_ADDR"' 3128; echo "proxy=$?"'
	echo "$output"
	[[ "$output" == "[]"* ]]
	[[ "$output" == *"hello from the world"* ]]
	[[ "$output" == *"proxy=1"* ]]
	# A bad mode is one line naming the field.
	sed 's/^network:/network:\n  mode: sideways/' "$TEST_TMP/egress.yaml" >"$TEST_TMP/bad.yaml"
	run "$RUNTIME" --root "$ROOT" ${SAFEHOUSE_BACKEND:+--backend "$SAFEHOUSE_BACKEND"} agent run --policy "$TEST_TMP/bad.yaml" --rootfs "$ROOTFS" -- true
	[ "$status" -ne 0 ]
	[ "$output" = "safehouse: policy $TEST_TMP/bad.yaml: network.mode: not one of explicit, transparent, both" ]
}

@test "transparent: an engine-run sandbox counts exfiltration-shaped queries in the warden's report; its decisions reach its audit log" {
	printf 'audit: %s\n' "$TEST_TMP/engine.audit.jsonl" >>"$POLICY"
	# The spec an engine would run: the policy travels in its annotations.
	"$RUNTIME" agent spec --policy "$POLICY" --rootfs "$ROOTFS" -- \
		sh -c 'unset http_proxy; nslookup other.test; nslookup -type=txt www.test; timeout 5 wget -q -O- http://www.test/hello.txt' >"$BUNDLE/config.json"
	jq -e '.annotations["io.safehouse.network.mode"] == "both"' "$BUNDLE/config.json"
	local id="egress-$$-engine"
	run "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$id"
	echo "$output"
	[[ "$output" == *"hello from the world"* ]]
	"$RUNTIME" --root "$ROOT" delete --force "$id" 2>/dev/null || true
	local log="$TEST_TMP/engine.audit.jsonl"
	"$RUNTIME" audit verify "$log"
	jq -c 'select(.kind == "warden" or .kind == "egress") | .details' "$log"
	# other.test (A and AAAA: NXDOMAIN each) and the TXT query.
	[ "$(jq -s 'map(select(.kind == "warden")) | .[0].details.report.dnsSuspicious' "$log")" = 3 ]
	[ "$(jq -s 'map(select(.kind == "egress" and .details.decision.method == "DNS" and .details.decision.decision == "denied")) | length' "$log")" = 3 ]
	[ "$(jq -s 'map(select(.kind == "egress" and .details.decision.method == "TCP" and .details.decision.decision == "allowed" and .details.decision.host == "www.test")) | length' "$log")" = 1 ]
}

@test "egress: an engine-run sandbox's decisions are in its audit log as they are made, once; past 10000 one record says the rest are dropped" {
	local log="$TEST_TMP/live.audit.jsonl" id="egress-$$-live"
	printf 'audit: %s\n' "$log" >>"$POLICY"
	"$RUNTIME" agent spec --policy "$POLICY" --rootfs "$ROOTFS" -- sleep 120 >"$BUNDLE/config.json"
	"$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "$id"
	"$RUNTIME" --root "$ROOT" start "$id"
	local pid
	pid="$("$RUNTIME" --root "$ROOT" state "$id" | jq -r .pid)"
	run nsenter -t "$pid" -n curl -s -x http://127.0.0.1:3128 http://other.test/hello.txt
	[[ "$output" == *"other.test matches no rule"* ]]
	# On the record while the sandbox still runs (no engine delete has happened).
	local n=50
	until grep -q '"kind":"egress"' "$log" 2>/dev/null || [ "$n" -eq 0 ]; do sleep 0.1; n=$((n - 1)); done
	jq -e -s 'map(select(.kind == "egress")) | length == 1 and .[0].details.decision.decision == "denied" and .[0].details.decision.host == "other.test"' "$log"
	# A flood of refused requests: 10000 decisions on the record, then one record
	# saying the rest are dropped; the warden's report counts them.
	nsenter -t "$pid" -n python3 - <<-'PY'
		import socket
		for i in range(10050):
		    s = socket.create_connection(("127.0.0.1", 3128))
		    s.sendall(b"GET http://other.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n")
		    while s.recv(4096):
		        pass
		    s.close()
	PY
	"$RUNTIME" --root "$ROOT" kill "$id" KILL
	wait_status "$id" stopped
	[ "$(wc -l <"$ROOT/$id/egress.jsonl")" = 10051 ]
	"$RUNTIME" --root "$ROOT" delete "$id"
	"$RUNTIME" audit verify "$log"
	[ "$(jq -s 'map(select(.kind == "egress" and .details.decision)) | length' "$log")" = 10000 ]
	jq -e -s 'map(select(.kind == "egress" and .details.dropped)) | length == 1 and .[0].details.limit == 10000' "$log"
	jq -e -s 'map(select(.kind == "warden")) | .[0].details.report.egressDropped == 51' "$log"
	# Nothing written twice at the end: the records end with the exit, the warden's
	# report, the change set and the delete.
	[ "$(jq -r -s 'map(.kind) | .[-5:] | join(" ")' "$log")" = "exit warden changes delete close" ]
}

@test "transparent: it fails closed: with the capture rules flushed, nothing leaves" {
	sandbox "egress-$$-closed"
	# Captured while the rules stand...
	run inside curl -s --noproxy '*' --max-time 5 --resolve www.test:80:198.51.100.2 http://www.test/hello.txt
	[ "$output" = "hello from the world" ]
	# ...and after what a sandbox given CAP_NET_ADMIN could do to its own namespace.
	# On gvisor the rules are not in the sandbox's namespace but in the warden's, which
	# nothing inside gVisor can reach (CAP_NET_ADMIN there changes gVisor's netstack);
	# they are flushed from the host, through a listening socket of the warden's
	# (pidfd_getfd, SIOCGSKNS: the namespace has no process and no name), to show that
	# without them the link carries nothing out either.
	if [ "${SAFEHOUSE_BACKEND:-native}" = gvisor ]; then
		cat >"$TEST_TMP/wardenns.py" <<-'PY'
			import ctypes, fcntl, os, subprocess, sys
			libc = ctypes.CDLL(None, use_errno=True)
			pid = int(sys.argv[1]); pidfd = os.pidfd_open(pid)
			own = os.stat("/proc/self/ns/net").st_ino
			for name in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
			    if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
			        continue
			    fd = libc.syscall(438, pidfd, int(name), 0)  # pidfd_getfd
			    if fd < 0:
			        continue
			    try:
			        ns = fcntl.ioctl(fd, 0x894C)  # SIOCGSKNS: the socket's network namespace
			    except OSError:
			        continue
			    finally:
			        os.close(fd)
			    if os.fstat(ns).st_ino == own:
			        os.close(ns); continue
			    sys.exit(subprocess.run(["nsenter", f"--net=/proc/self/fd/{ns}"] + sys.argv[2:], pass_fds=[ns]).returncode)
			sys.exit("no socket of the warden in another network namespace")
		PY
		local warden
		warden="$(jq -r '.wardenPid' "$ROOT/egress-$$-closed/state.json")"
		python3 "$TEST_TMP/wardenns.py" "$warden" nft list ruleset | grep -q 'redirect to :15001'
		python3 "$TEST_TMP/wardenns.py" "$warden" nft flush ruleset
		[ -z "$(python3 "$TEST_TMP/wardenns.py" "$warden" nft list ruleset)" ]
	else
		inside nft flush ruleset
	fi
	run inside curl -s --noproxy '*' --max-time 3 --resolve www.test:80:198.51.100.2 http://www.test/hello.txt
	[ "$status" -ne 0 ]
	[ -z "$output" ]
	run inside curl -s --noproxy '*' --max-time 3 "http://[2001:db8:5::2]/hello.txt"
	[ "$status" -ne 0 ]
	[ -z "$output" ]
	end_sandbox "egress-$$-closed"
}

@test "transparent: a plain HTTP request is judged by its absolute target, not its Host: another site or the metadata address at an allowed address is reset" {
	noproxy 'printf "GET http://other.test/hello.txt HTTP/1.1\r\nHost: www.test\r\n\r\n" | timeout 5 nc www.test 80; echo "other=$?"
		printf "GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: www.test\r\n\r\n" | timeout 5 nc www.test 80; echo "meta=$?"
		printf "GET http://other.test/hello.txt HTTP/1.0\r\n\r\n" | timeout 5 nc www.test 80; echo "nohost=$?"
		printf "GET https://other.test/hello.txt HTTP/1.1\r\nHost: www.test\r\n\r\n" | timeout 5 nc www.test 80; echo "https=$?"
		printf "CONNECT other.test:443 HTTP/1.1\r\nHost: www.test\r\n\r\n" | timeout 5 nc www.test 80; echo "connect=$?"
		printf "GET http://www.test/hello.txt HTTP/1.1\r\nHost: www.test\r\n\r\n" | timeout 5 nc www.test 80 | tail -n1'
	# No answer at all for the five: reset before a byte reached the server (the
	# sixth's answer is cut to its body by tail).
	[ "$(echo "$output" | grep -c '^HTTP/')" = 0 ]
	# The absolute target the server routes by, rewritten to origin form: served.
	[ "$(echo "$output" | tail -n1)" = "hello from the world" ]
	# The target and Host disagree: refused as the proxy refuses it; without Host the
	# target alone is judged.
	[ "$(records '.method == "TCP" and .decision == "denied" and .reason == "Host \"www.test\" does not match the request target other.test"')" = 1 ]
	[ "$(records '.method == "TCP" and .decision == "denied" and .reason == "Host \"www.test\" does not match the request target 169.254.169.254"')" = 1 ]
	[ "$(records '.method == "TCP" and .decision == "denied" and .host == "other.test" and .reason == "other.test matches no rule of network.allow"')" = 1 ]
	[ "$(records '.method == "TCP" and .decision == "denied" and (.reason | test("scheme \"https\" is not http"))')" = 1 ]
	[ "$(records '.method == "TCP" and .decision == "denied" and (.reason | test("request target \"other.test:443\" is neither"))')" = 1 ]
	[ "$(records '.method == "TCP" and .decision == "allowed" and .host == "www.test" and .port == 80 and .bytesDown > 0')" = 1 ]
	[ "$(records '.method == "TCP"')" = 6 ]
}

@test "egress: a CONNECT tunnel to a name whose ClientHello names no server is cut; to a literal address it needs none" {
	printf '    - 198.51.100.2:443\n' >>"$POLICY"
	local id="egress-$$-nosni" pid agentpid
	sandbox "$id"
	run inside sh -c "echo | timeout 10 openssl s_client -proxy $PROXY_ADDR:3128 -connect www.test:443 -noservername -CAfile $CERT 2>&1"
	echo "$output"
	[[ "$output" == *"no peer certificate available"* ]]
	[[ "$output" != *"BEGIN CERTIFICATE"* ]]
	# With the name it is the same tunnel, and works.
	run inside sh -c "echo | timeout 10 openssl s_client -proxy $PROXY_ADDR:3128 -connect www.test:443 -servername www.test -CAfile $CERT 2>&1"
	[[ "$output" == *"BEGIN CERTIFICATE"* ]]
	[[ "$output" == *"Verify return code: 0 (ok)"* ]]
	# curl sends no server name for an address: judged by the address's own rule.
	run inside curl -s --max-time 10 -k --proxy "http://$PROXY_ADDR:3128" https://198.51.100.2/hello.txt
	[ "$output" = "hello from the world" ]
	local audit="$ROOT/$id/egress.jsonl"
	cat "$audit"
	jq -e -s 'map(select(.decision == "denied" and .host == "www.test" and .reason == "TLS ClientHello names no server (SNI); a tunnel to www.test must name it")) | length == 1' "$audit"
	jq -e -s 'map(select(.decision == "allowed" and .host == "198.51.100.2" and .port == 443 and .rule == "198.51.100.2:443")) | length == 1' "$audit"
	end_sandbox "$id"
}

@test "egress: a refusal's reason is its status line, which curl and python's requests show for HTTPS" {
	local id="egress-$$-reason" pid agentpid
	sandbox "$id"
	run inside curl -s -S --max-time 10 -v --proxy "http://$PROXY_ADDR:3128" https://other.test/hello.txt
	echo "$output"
	[[ "$output" == *"< HTTP/1.1 403 safehouse: other.test matches no rule of network.allow"* ]]
	# requests (and pip, which vendors it) print the status line of a failed CONNECT,
	# never its body; urllib where requests is not installed (the gvisor tools).
	run inside python3 -c '
import sys
proxy = "http://" + sys.argv[1] + ":3128"
try:
    import requests
    try:
        requests.get("https://other.test/", proxies={"https": proxy}, timeout=10)
    except Exception as e:
        print(e)
except ImportError:
    import urllib.request
    try:
        urllib.request.build_opener(urllib.request.ProxyHandler({"https": proxy})).open("https://other.test/", timeout=10)
    except Exception as e:
        print(e)
' "$PROXY_ADDR"
	echo "$output"
	[[ "$output" == *"403 safehouse: other.test matches no rule of network.allow"* ]]
	# Plain HTTP too; the phrase carries no control bytes from the client's request.
	run inside sh -c "printf 'GET http://www.test/ HTTP/1.1\r\nHost: a\nX-Injected: 1\r\n\r\n' | timeout 5 $BB nc $PROXY_ADDR 3128"
	echo "$output"
	[[ "$output" == 'HTTP/1.1 403 safehouse: Host "a?X-Injected: 1" does not match the request target www.test'* ]]
	[ "$(echo "$output" | grep -c '^X-Injected')" = 0 ]
	end_sandbox "$id"
}

@test "transparent: a connection that names no host (TLS without SNI, HTTP without Host) is not admitted by a name the DNS gave out; an address rule admits it as one request" {
	local id="egress-$$-unnamed" pid agentpid
	sandbox "$id"
	# The sandbox's resolver gives www.test's address out; the client then names no server.
	run inside sh -c "$BB nslookup www.test $PROXY_ADDR >/dev/null; echo | timeout 10 openssl s_client -connect 198.51.100.2:443 -noservername -CAfile $CERT 2>&1"
	echo "$output"
	[[ "$output" == *"no peer certificate available"* ]]
	run inside sh -c "echo | timeout 10 openssl s_client -connect 198.51.100.2:443 -servername www.test -CAfile $CERT 2>&1"
	[[ "$output" == *"Verify return code: 0 (ok)"* ]]
	[[ "$output" == *"BEGIN CERTIFICATE"* ]]
	run inside sh -c "printf 'GET /hello.txt HTTP/1.1\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: other.test\r\n\r\n' | timeout 5 $BB nc 198.51.100.2 80"
	echo "$output"
	[ "$(echo "$output" | grep -c '^HTTP/')" = 0 ]
	local audit="$ROOT/$id/egress.jsonl"
	cat "$audit"
	jq -e -s 'map(select(.decision == "denied" and .host == "198.51.100.2" and .port == 443 and .reason == "the TLS ClientHello names no server (SNI); 198.51.100.2 is allowed only by name (www.test), which it must send")) | length == 1' "$audit"
	jq -e -s 'map(select(.decision == "denied" and .port == 80 and (.reason | startswith("the HTTP request names no Host; ")))) | length == 1' "$audit"
	end_sandbox "$id"
	# A rule for the address admits a request without Host, as one request naming the
	# address: the pipelined second one, for another site, never reaches the server.
	printf '    - 198.51.100.2:80\n' >>"$POLICY"
	noproxy 'printf "GET /hello.txt HTTP/1.1\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: other.test\r\n\r\n" | timeout 5 nc 198.51.100.2 80'
	[ "$(echo "$output" | grep -c '^HTTP/')" = 1 ]
	[[ "$output" == *"hello from the world"* ]]
	[ "$(records '.method == "TCP" and .decision == "allowed" and .host == "198.51.100.2" and .rule == "198.51.100.2:80" and .reason == "bytes after the request were dropped"')" = 1 ]
}
